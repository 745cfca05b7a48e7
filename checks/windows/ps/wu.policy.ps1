# WSUS / Windows Update for Business / Automatic Updates policy, whether the service may run,
# and whether updates are paused (Settings > Windows Update, or the pause policies).
$wuKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate'
$auKey = 'HKLM:\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU'
$uxKey = 'HKLM:\SOFTWARE\Microsoft\WindowsUpdate\UX\Settings'
# an MDM's (Intune's) Update policies, as the Policy CSP names them
$mdmKey = 'HKLM:\SOFTWARE\Microsoft\PolicyManager\current\device\Update'
# The start type first: with wuauserv disabled the ServiceManager call below fails, and that
# must not hide the one fact that explains it.
$startType = $null
$wuauserv = Get-Service -Name wuauserv -ErrorAction SilentlyContinue
if ($null -ne $wuauserv) { $startType = $wuauserv.StartType.ToString() }
$defaultService = $null
$serviceManagerError = $null
try {
    $manager = New-Object -ComObject Microsoft.Update.ServiceManager
    foreach ($service in $manager.Services) {
        if ($service.IsDefaultAUService) { $defaultService = $service.Name }
    }
} catch {
    $serviceManagerError = $_.Exception.Message
}
# Pause times are kept as the registry's text (ISO 8601 UTC in UX\Settings, yyyy-MM-dd in the
# policies): the parser reads them; no date parsing of localised text here.
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
    ServiceManagerError = $serviceManagerError
    MdmUpdatePolicyPresent = (Test-Path -Path $mdmKey)
    WuauservStartType = $startType
    PauseUpdatesExpiryTime = Get-RegistryValue -Path $uxKey -Name 'PauseUpdatesExpiryTime'
    PauseQualityUpdatesStartTime = Get-RegistryValue -Path $uxKey -Name 'PauseQualityUpdatesStartTime'
    PauseQualityUpdatesEndTime = Get-RegistryValue -Path $uxKey -Name 'PauseQualityUpdatesEndTime'
    PauseFeatureUpdatesStartTime = Get-RegistryValue -Path $uxKey -Name 'PauseFeatureUpdatesStartTime'
    PauseFeatureUpdatesEndTime = Get-RegistryValue -Path $uxKey -Name 'PauseFeatureUpdatesEndTime'
    PolicyPauseQualityUpdates = Get-RegistryValue -Path $wuKey -Name 'PauseQualityUpdates'
    PolicyPauseQualityUpdatesStartTime = Get-RegistryValue -Path $wuKey -Name 'PauseQualityUpdatesStartTime'
    PolicyPauseFeatureUpdates = Get-RegistryValue -Path $wuKey -Name 'PauseFeatureUpdates'
    PolicyPauseFeatureUpdatesStartTime = Get-RegistryValue -Path $wuKey -Name 'PauseFeatureUpdatesStartTime'
    MdmPauseQualityUpdates = Get-RegistryValue -Path $mdmKey -Name 'PauseQualityUpdates'
    MdmPauseQualityUpdatesStartTime = Get-RegistryValue -Path $mdmKey -Name 'PauseQualityUpdatesStartTime'
    MdmPauseFeatureUpdates = Get-RegistryValue -Path $mdmKey -Name 'PauseFeatureUpdates'
    MdmPauseFeatureUpdatesStartTime = Get-RegistryValue -Path $mdmKey -Name 'PauseFeatureUpdatesStartTime'
}
