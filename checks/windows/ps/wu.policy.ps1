# WSUS / Windows Update for Business / Automatic Updates policy, and whether the service may run.
$wuKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate'
$auKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU'
$defaultService = $null
$manager = New-Object -ComObject Microsoft.Update.ServiceManager
foreach ($service in $manager.Services) {
    if ($service.IsDefaultAUService) { $defaultService = $service.Name }
}
$startType = $null
$wuauserv = Get-Service -Name wuauserv -ErrorAction SilentlyContinue
if ($null -ne $wuauserv) { $startType = $wuauserv.StartType.ToString() }
[pscustomobject]@{
    WUServer = Get-RegistryValue -Path $wuKey -Name 'WUServer'
    WUStatusServer = Get-RegistryValue -Path $wuKey -Name 'WUStatusServer'
    TargetGroup = Get-RegistryValue -Path $wuKey -Name 'TargetGroup'
    DoNotConnectToWindowsUpdateInternetLocations = Get-RegistryValue -Path $wuKey -Name 'DoNotConnectToWindowsUpdateInternetLocations'
    DeferQualityUpdatesPeriodInDays = Get-RegistryValue -Path $wuKey -Name 'DeferQualityUpdatesPeriodInDays'
    DeferFeatureUpdatesPeriodInDays = Get-RegistryValue -Path $wuKey -Name 'DeferFeatureUpdatesPeriodInDays'
    TargetReleaseVersionInfo = Get-RegistryValue -Path $wuKey -Name 'TargetReleaseVersionInfo'
    ProductVersion = Get-RegistryValue -Path $wuKey -Name 'ProductVersion'
    UseWUServer = Get-RegistryValue -Path $auKey -Name 'UseWUServer'
    NoAutoUpdate = Get-RegistryValue -Path $auKey -Name 'NoAutoUpdate'
    AUOptions = Get-RegistryValue -Path $auKey -Name 'AUOptions'
    ScheduledInstallDay = Get-RegistryValue -Path $auKey -Name 'ScheduledInstallDay'
    ScheduledInstallTime = Get-RegistryValue -Path $auKey -Name 'ScheduledInstallTime'
    DefaultAUService = $defaultService
    MdmUpdatePolicyPresent = (Test-Path -Path 'HKLM:\SOFTWARE\Microsoft\PolicyManager\current\device\Update')
    WuauservStartType = $startType
}
