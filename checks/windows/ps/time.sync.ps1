# w32tm prints localised labels: the source comes from /query /source (no label), the last sync
# from the status line's fixed position, parsed in the host's own culture.
$source = ((& w32tm.exe /query /source) -join ' ').Trim()
if ($LASTEXITCODE -ne 0) { throw ('w32tm /query /source failed: {0}' -f $source) }
$status = @(& w32tm.exe /query /status /verbose)
$lastSync = $null
$stratum = $null
$offset = $null
foreach ($line in $status) {
    $label, $value = $line -split ':\s*', 2
    if ($line -match '^Stratum:\s*(\d+)' -or $line -match '^Estrato:\s*(\d+)') { $stratum = [int]$Matches[1] }
    if ($line -match '^Phase Offset:\s*([-+]?[\d.]+)s') { $offset = [double]$Matches[1] }
    if ($label -match 'Last Successful Sync Time|sincronizaci.n correcta') {
        try { $lastSync = ConvertTo-IsoDate ([datetime]::Parse($value, [cultureinfo]::CurrentCulture)) } catch { $lastSync = $null }
    }
}
$service = Get-Service -Name W32Time -ErrorAction SilentlyContinue
$serviceStatus = $null
if ($null -ne $service) { $serviceStatus = $service.Status.ToString() }
$parameters = 'HKLM:\SYSTEM\CurrentControlSet\Services\W32Time\Parameters'
[pscustomobject]@{
    Source = $source
    Type = Get-RegistryValue -Path $parameters -Name 'Type'
    NtpServer = Get-RegistryValue -Path $parameters -Name 'NtpServer'
    ServiceStatus = $serviceStatus
    LastSuccessfulSyncTime = $lastSync
    Stratum = $stratum
    PhaseOffsetSeconds = $offset
    StatusText = $status
}
