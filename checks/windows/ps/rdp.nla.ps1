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
# fDenyTSConnections unreadable (no value, no policy): $null, an error for the parser, never
# "RDP off" (($null -eq 0) is $false, which failed open).
$rdpEnabled = $null
if ($null -ne $deny) { $rdpEnabled = ([int]$deny -eq 0) }
[pscustomobject]@{
    RdpEnabled = $rdpEnabled
    UserAuthentication = Get-RegistryValue -Path $rdpKey -Name 'UserAuthentication'
    SecurityLayer = Get-RegistryValue -Path $rdpKey -Name 'SecurityLayer'
    PortNumber = Get-RegistryValue -Path $rdpKey -Name 'PortNumber'
    PolicyUserAuthentication = Get-RegistryValue -Path $policyKey -Name 'UserAuthentication'
    PolicyDenyTSConnections = $policyDeny
    NlaRequiredEffective = $effective
}
