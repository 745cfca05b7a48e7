# baluarte-windows-fix id=defender-realtime
# endpoint.realtime_protection: Microsoft Defender real-time protection on, re-read and reported.
# Tamper Protection or a Group Policy (HKLM:\SOFTWARE\Policies\Microsoft\Windows Defender) can
# keep it off: the re-read says so and the fix fails instead of claiming success.
param([switch]$DryRun)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# PS 5.1 writes an array as {"value":[...],"Count":n} while this type data is loaded (as
# the check script does): this session's type table only, not the host.
Get-TypeData -TypeName System.Array | Remove-TypeData -ErrorAction SilentlyContinue
$status = Get-MpComputerStatus
$before = [ordered]@{ RealTimeProtectionEnabled = [bool]$status.RealTimeProtectionEnabled }
$result = [ordered]@{ changed = $false; dryRun = [bool]$DryRun; before = $before; after = $before }
if (-not $status.RealTimeProtectionEnabled -and -not $DryRun) {
    Set-MpPreference -DisableRealtimeMonitoring $false
    Start-Sleep -Seconds 2
    $status = Get-MpComputerStatus
    $result['changed'] = $true
    $result['after'] = [ordered]@{
        RealTimeProtectionEnabled = [bool]$status.RealTimeProtectionEnabled
        IsTamperProtected = [bool]$status.IsTamperProtected
    }
    if (-not $status.RealTimeProtectionEnabled) {
        $result['error'] = 'RealTimeProtectionEnabled is still False after Set-MpPreference: ' +
            'Tamper Protection or a Group Policy keeps real-time protection off'
    }
}
[pscustomobject]$result | ConvertTo-Json -Compress -Depth 5
