# Exclusions are sensitive: they are counted, never listed. No cmdlets: Defender is not present.
if ($null -eq (Get-Command -Name Get-MpComputerStatus -ErrorAction SilentlyContinue)) {
    return [pscustomobject]@{ Present = $false }
}
$status = Get-MpComputerStatus
$preference = Get-MpPreference
[pscustomobject]@{
    Present = $true
    AMRunningMode = "$($status.AMRunningMode)"
    AMServiceEnabled = [bool]$status.AMServiceEnabled
    AntivirusEnabled = [bool]$status.AntivirusEnabled
    RealTimeProtectionEnabled = [bool]$status.RealTimeProtectionEnabled
    BehaviorMonitorEnabled = [bool]$status.BehaviorMonitorEnabled
    IoavProtectionEnabled = [bool]$status.IoavProtectionEnabled
    IsTamperProtected = [bool]$status.IsTamperProtected
    AntivirusSignatureVersion = $status.AntivirusSignatureVersion
    AntivirusSignatureAge = [int]$status.AntivirusSignatureAge
    AntivirusSignatureLastUpdated = ConvertTo-IsoDate $status.AntivirusSignatureLastUpdated
    DefenderSignaturesOutOfDate = [bool]$status.DefenderSignaturesOutOfDate
    QuickScanAge = [int]$status.QuickScanAge
    AMProductVersion = $status.AMProductVersion
    DisableRealtimeMonitoringPref = [bool]$preference.DisableRealtimeMonitoring
    ExclusionPathCount = @($preference.ExclusionPath | Where-Object { $_ }).Count
    ExclusionProcessCount = @($preference.ExclusionProcess | Where-Object { $_ }).Count
    ExclusionExtensionCount = @($preference.ExclusionExtension | Where-Object { $_ }).Count
}
