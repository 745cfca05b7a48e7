# Baluarte's Windows check script: shared preamble and the per-check envelope.
# Windows PowerShell 5.1 compatible. Read-only: see checks/windows/script.py for the allowlist.
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# PS 5.1 serialises arrays as {"value":[...],"Count":n} while this type data is loaded (as InSpec).
# It only changes this session's type table, not the host.
Get-TypeData -TypeName System.Array | Remove-TypeData -ErrorAction SilentlyContinue
$baluarteNow = [datetime]::UtcNow

function ConvertTo-IsoDate {
    # ISO 8601 UTC ('o'); WUA dates are UTC already but come back unspecified: -AssumeUtc.
    param($Date, [switch]$AssumeUtc)
    if ($null -eq $Date -or "$Date" -eq '') { return $null }
    $d = [datetime]$Date
    if ($AssumeUtc) { return [datetime]::SpecifyKind($d, [DateTimeKind]::Utc).ToString('o') }
    return $d.ToUniversalTime().ToString('o')
}

function Get-RegistryValue {
    # A value of a key, or $null when the key or the value does not exist.
    param([string]$Path, [string]$Name)
    $item = Get-ItemProperty -Path $Path -ErrorAction SilentlyContinue
    if ($null -eq $item) { return $null }
    $property = $item.PSObject.Properties[$Name]
    if ($null -eq $property) { return $null }
    return $property.Value
}

function Get-CheckResult {
    # Runs one check body: {"ok":true,"data":…,"ms":…} or {"ok":false,"error":…,"errorId":…}.
    param([string]$Id, [scriptblock]$Body)
    $watch = [Diagnostics.Stopwatch]::StartNew()
    try {
        $data = & $Body
        return [pscustomobject]@{ ok = $true; data = $data; ms = [int]$watch.ElapsedMilliseconds }
    } catch {
        return [pscustomobject]@{
            ok = $false
            error = $_.Exception.Message
            errorId = $_.FullyQualifiedErrorId
        }
    }
}

$baluarteChecks = [ordered]@{}
