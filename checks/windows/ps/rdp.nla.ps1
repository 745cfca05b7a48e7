# Local registry, the Group Policy override, and the effective WMI setting when readable.
$tsKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server'
$rdpKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Terminal Server\WinStations\RDP-Tcp'
$policyKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services'
$deny = Get-RegistryValue -Path $tsKey -Name 'fDenyTSConnections'
$policyDeny = Get-RegistryValue -Path $policyKey -Name 'fDenyTSConnections'
if ($null -ne $policyDeny) { $deny = $policyDeny }
$effective = $null
try {
    $setting = Get-CimInstance -Namespace 'root/cimv2/TerminalServices' -ClassName Win32_TSGeneralSetting -Filter "TerminalName='RDP-Tcp'"
    if ($null -ne $setting) { $effective = ([int]$setting.UserAuthenticationRequired -eq 1) }
} catch {
    $effective = $null
}
[pscustomobject]@{
    RdpEnabled = ($deny -eq 0)
    UserAuthentication = Get-RegistryValue -Path $rdpKey -Name 'UserAuthentication'
    SecurityLayer = Get-RegistryValue -Path $rdpKey -Name 'SecurityLayer'
    PortNumber = Get-RegistryValue -Path $rdpKey -Name 'PortNumber'
    PolicyUserAuthentication = Get-RegistryValue -Path $policyKey -Name 'UserAuthentication'
    PolicyDenyTSConnections = $policyDeny
    NlaRequiredEffective = $effective
}
