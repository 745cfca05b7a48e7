# Exclusions are sensitive: they are counted, never listed. No cmdlets: Defender is not present.
# Each call is caught on its own: with another antivirus primary (Sophos) Defender is "Not
# running" and Get-MpPreference (or Get-MpComputerStatus) throws 0x800106ba; that only leaves
# its own fields $null, with the message beside them, and the WinDefend service state says more.
# Ages are uint32 and 4294967295 means "never": [int] would overflow, so they stay [int64].
if ($null -eq (Get-Command -Name Get-MpComputerStatus -ErrorAction SilentlyContinue)) {
    return [pscustomobject]@{ Present = $false }
}
$serviceStatus = $null
try {
    $windefend = Get-Service -Name WinDefend -ErrorAction Stop
    $serviceStatus = $windefend.Status.ToString()
} catch {
    $serviceStatus = $null
}
$status = $null
$statusError = $null
try { $status = Get-MpComputerStatus } catch { $statusError = $_.Exception.Message }
$preference = $null
$preferenceError = $null
try { $preference = Get-MpPreference } catch { $preferenceError = $_.Exception.Message }

function Get-Age($Value) {
    if ($null -eq $Value) { return $null }
    return [int64]$Value
}

$result = [ordered]@{
    Present = $true
    ServiceStatus = $serviceStatus
    StatusError = $statusError
    PreferenceError = $preferenceError
    AMRunningMode = $null
    AMServiceEnabled = $null
    AntivirusEnabled = $null
    RealTimeProtectionEnabled = $null
    BehaviorMonitorEnabled = $null
    IoavProtectionEnabled = $null
    IsTamperProtected = $null
    AntivirusSignatureVersion = $null
    AntivirusSignatureAge = $null
    AntivirusSignatureLastUpdated = $null
    DefenderSignaturesOutOfDate = $null
    QuickScanAge = $null
    AMProductVersion = $null
    DisableRealtimeMonitoringPref = $null
    ExclusionPathCount = $null
    ExclusionProcessCount = $null
    ExclusionExtensionCount = $null
}
if ($null -ne $status) {
    $result.AMRunningMode = "$($status.AMRunningMode)"
    $result.AMServiceEnabled = [bool]$status.AMServiceEnabled
    $result.AntivirusEnabled = [bool]$status.AntivirusEnabled
    $result.RealTimeProtectionEnabled = [bool]$status.RealTimeProtectionEnabled
    $result.BehaviorMonitorEnabled = [bool]$status.BehaviorMonitorEnabled
    $result.IoavProtectionEnabled = [bool]$status.IoavProtectionEnabled
    $result.IsTamperProtected = [bool]$status.IsTamperProtected
    $result.AntivirusSignatureVersion = $status.AntivirusSignatureVersion
    $result.AntivirusSignatureAge = Get-Age $status.AntivirusSignatureAge
    $result.AntivirusSignatureLastUpdated = ConvertTo-IsoDate $status.AntivirusSignatureLastUpdated
    $result.DefenderSignaturesOutOfDate = [bool]$status.DefenderSignaturesOutOfDate
    $result.QuickScanAge = Get-Age $status.QuickScanAge
    $result.AMProductVersion = $status.AMProductVersion
}
if ($null -ne $preference) {
    $result.DisableRealtimeMonitoringPref = [bool]$preference.DisableRealtimeMonitoring
    $result.ExclusionPathCount = @($preference.ExclusionPath | Where-Object { $_ }).Count
    $result.ExclusionProcessCount = @($preference.ExclusionProcess | Where-Object { $_ }).Count
    $result.ExclusionExtensionCount = @($preference.ExclusionExtension | Where-Object { $_ }).Count
}
[pscustomobject]$result
