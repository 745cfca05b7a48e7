# baluarte-windows-fix id=defender-signatures
# endpoint.signatures_current: Microsoft Defender security intelligence updated, re-read and
# reported (from the host's configured source: Windows Update, WSUS or a file share). Still older
# than the policy's MaxDays (endpoint.signatures_current max_days) afterwards is an error.
param([switch]$DryRun, [Parameter(Mandatory = $true)][int]$MaxDays)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# PS 5.1 writes an array as {"value":[...],"Count":n} while this type data is loaded (as
# the check script does): this session's type table only, not the host.
Get-TypeData -TypeName System.Array | Remove-TypeData -ErrorAction SilentlyContinue
function Get-Signatures {
    $status = Get-MpComputerStatus
    $updated = $null
    if ($null -ne $status.AntivirusSignatureLastUpdated) {
        $updated = ([datetime]$status.AntivirusSignatureLastUpdated).ToUniversalTime().ToString('o')
    }
    [ordered]@{
        AntivirusSignatureVersion = [string]$status.AntivirusSignatureVersion
        AntivirusSignatureLastUpdated = $updated
        # uint32: 4294967295 (never updated) would overflow [int]
        AntivirusSignatureAge = [int64]$status.AntivirusSignatureAge
    }
}
$before = Get-Signatures
$result = [ordered]@{ changed = $false; dryRun = [bool]$DryRun; before = $before; after = $before }
if (-not $DryRun) {
    Update-MpSignature
    $after = Get-Signatures
    $result['after'] = $after
    $result['changed'] = ($after.AntivirusSignatureVersion -ne $before.AntivirusSignatureVersion)
    if ($after.AntivirusSignatureAge -gt $MaxDays) {
        $result['error'] = "signatures are still $($after.AntivirusSignatureAge) days old after " +
            'Update-MpSignature: check the update source (Windows Update, WSUS, UNC share)'
    }
}
[pscustomobject]$result | ConvertTo-Json -Compress -Depth 5
