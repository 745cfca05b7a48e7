# Services, the installed product, the health registry (1 good, 2 suspicious, 3 bad) and the
# Sophos Endpoint Defense tamper protection setting (SEDEnabled 1 = on) when its key exists.
# The last successful update (product and threat data), as public Sophos scripts read it: Sophos
# Central's AutoUpdate\UpdateStatus\Details LastGoodInstallTime (REG_QWORD, Unix milliseconds)
# or the older AutoUpdate\UpdateStatus LastUpdateTime (REG_DWORD, Unix seconds); both UTC, so
# no localised text is read. The newer of the two is kept.
$uninstall = @(
    'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'
)
$services = @(Get-Service -DisplayName 'Sophos*' -ErrorAction SilentlyContinue | ForEach-Object {
    [pscustomobject]@{ Name = $_.DisplayName; Status = $_.Status.ToString(); StartType = $_.StartType.ToString() }
})
$products = @(Get-ItemProperty -Path $uninstall -ErrorAction SilentlyContinue |
    Where-Object { $_.DisplayName -like 'Sophos*' } | ForEach-Object {
        [pscustomobject]@{ DisplayName = $_.DisplayName; DisplayVersion = $_.DisplayVersion }
    })
$healthKey = 'HKLM:\SOFTWARE\WOW6432Node\Sophos\Health\Status'
$tamperKey = 'HKLM:\SYSTEM\CurrentControlSet\Services\Sophos Endpoint Defense\TamperProtection\Config'
$updateKey = 'HKLM:\SOFTWARE\WOW6432Node\Sophos\AutoUpdate\UpdateStatus'
$updates = @()
$goodInstall = Get-RegistryValue -Path "$updateKey\Details" -Name 'LastGoodInstallTime'
if ($null -ne $goodInstall) { $updates += [DateTimeOffset]::FromUnixTimeMilliseconds([int64]$goodInstall).UtcDateTime }
$lastUpdate = Get-RegistryValue -Path $updateKey -Name 'LastUpdateTime'
if ($null -ne $lastUpdate) { $updates += [DateTimeOffset]::FromUnixTimeSeconds([int64]$lastUpdate).UtcDateTime }
$lastSuccess = $null
if ($updates.Count -gt 0) { $lastSuccess = ConvertTo-IsoDate (@($updates | Sort-Object) | Select-Object -Last 1) }
$dataVersion = Get-RegistryValue -Path 'HKLM:\SOFTWARE\Sophos\Sophos File Scanner\Application\Versions' -Name 'VirusDataVersion'
if ($null -ne $dataVersion) { $dataVersion = "$dataVersion" }
[pscustomobject]@{
    Installed = ($services.Count -gt 0 -or $products.Count -gt 0)
    Services = $services
    Products = $products
    HealthOverall = Get-RegistryValue -Path $healthKey -Name 'health'
    HealthServices = Get-RegistryValue -Path $healthKey -Name 'service'
    HealthThreat = Get-RegistryValue -Path $healthKey -Name 'threat'
    TamperProtectionEnabled = Get-RegistryValue -Path $tamperKey -Name 'SEDEnabled'
    LastUpdateSuccess = $lastSuccess
    VirusDataVersion = $dataVersion
}
