# The session's culture is en-US (baluarte/transports/winrm.py), but w32tm.exe prints in the
# host's display language and in its user's date format whatever that culture is. So: the
# W32Time service first (trigger-start, often stopped on workgroup PCs, when w32tm /query
# fails: nothing more is read); the newest Time-Service event 35 or 37 of the System log ("now
# synchronizing with", "receiving valid time data from") as a locale-free witness of a sync;
# no label of w32tm's is matched here (the parser reads the verbose StatusText in English or
# Spanish); the last sync time is found by position and parsed with the user's own short date
# and long time patterns (HKCU International), else with known patterns only when exactly one
# of them reads it. Text nothing reads stays in the output, and the parser makes it an error.
$parameters = 'HKLM:\SYSTEM\CurrentControlSet\Services\W32Time\Parameters'
$service = Get-Service -Name W32Time -ErrorAction SilentlyContinue
$serviceStatus = $null
$startType = $null
if ($null -ne $service) {
    $serviceStatus = $service.Status.ToString()
    $startType = $service.StartType.ToString()
}
$result = [ordered]@{
    ServiceStatus = $serviceStatus
    StartType = $startType
    Source = $null
    Type = Get-RegistryValue -Path $parameters -Name 'Type'
    NtpServer = Get-RegistryValue -Path $parameters -Name 'NtpServer'
    LastSuccessfulSyncTime = $null
    LastSuccessfulSyncText = $null
    LastSyncEvent = $null
    StatusText = @()
}
try {
    $filter = @{ LogName = 'System'; ProviderName = 'Microsoft-Windows-Time-Service'; Id = 35, 37 }
    $syncEvent = Get-WinEvent -FilterHashtable $filter -MaxEvents 1
    if ($null -ne $syncEvent) {
        $result.LastSyncEvent = [pscustomobject]@{ Id = [int]$syncEvent.Id; TimeCreated = ConvertTo-IsoDate $syncEvent.TimeCreated }
    }
} catch {
    # "No events were found that match the specified selection criteria."
    $result.LastSyncEvent = $null
}
if ($serviceStatus -ne 'Running') { return [pscustomobject]$result }

function ConvertFrom-W32tmDate {
    # Local time as w32tm printed it, or $null when no pattern reads it unambiguously.
    param([string]$Text)
    $text = ($Text -replace '[\u200e\u200f]', '').Trim()
    $styles = [Globalization.DateTimeStyles]'AllowWhiteSpaces, AssumeLocal'
    $parsed = [datetime]::MinValue
    $international = Get-ItemProperty -Path 'HKCU:\Control Panel\International' -ErrorAction SilentlyContinue
    if ($null -ne $international -and $international.sShortDate -and $international.sTimeFormat) {
        $culture = [Globalization.CultureInfo]::InvariantCulture
        try { $culture = [Globalization.CultureInfo]::GetCultureInfo([string]$international.LocaleName) } catch { $culture = [Globalization.CultureInfo]::InvariantCulture }
        $format = '{0} {1}' -f $international.sShortDate, $international.sTimeFormat
        if ([datetime]::TryParseExact($text, $format, $culture, $styles, [ref]$parsed)) { return $parsed }
    }
    $found = @{}
    $known = @(
        @('M/d/yyyy h:mm:ss tt', 'en-US'), @('d/M/yyyy H:mm:ss', 'es-ES'),
        @('yyyy-MM-dd H:mm:ss', 'en-US'), @('d.M.yyyy H:mm:ss', 'de-DE'))
    foreach ($pattern in $known) {
        $culture = [Globalization.CultureInfo]::GetCultureInfo($pattern[1])
        if ([datetime]::TryParseExact($text, $pattern[0], $culture, $styles, [ref]$parsed)) { $found[$parsed.Ticks] = $parsed }
    }
    if ($found.Count -eq 1) { return @($found.Values)[0] }
    return $null
}

$source = ((& w32tm.exe /query /source) -join ' ').Trim()
if ($LASTEXITCODE -ne 0) { throw ('w32tm /query /source failed: {0}' -f $source) }
$status = @(& w32tm.exe /query /status)
$result.Source = $source
$result.StatusText = @(& w32tm.exe /query /status /verbose)
# No label is matched: in every language the line before "Source: <the source>" is the last
# successful sync time.
$at = -1
for ($i = 1; $i -lt $status.Count; $i++) {
    $parts = "$($status[$i])" -split ':\s*', 2
    if ($parts.Count -eq 2 -and $parts[1].Trim() -eq $source) { $at = $i - 1 }
}
if ($at -lt 0) { throw ('w32tm /query /status names no source {0}' -f $source) }
$value = ("$($status[$at])" -split ':\s*', 2)[1]
$result.LastSuccessfulSyncText = "$value".Trim()
$result.LastSuccessfulSyncTime = ConvertTo-IsoDate (ConvertFrom-W32tmDate -Text $value)
[pscustomobject]$result
