# Services, the installed product, the health registry (1 good, 2 suspicious, 3 bad) and the
# Sophos Endpoint Defense tamper protection setting (SEDEnabled 1 = on) when its key exists.
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
[pscustomobject]@{
    Installed = ($services.Count -gt 0 -or $products.Count -gt 0)
    Services = $services
    Products = $products
    HealthOverall = Get-RegistryValue -Path $healthKey -Name 'health'
    HealthServices = Get-RegistryValue -Path $healthKey -Name 'service'
    HealthThreat = Get-RegistryValue -Path $healthKey -Name 'threat'
    TamperProtectionEnabled = Get-RegistryValue -Path $tamperKey -Name 'SEDEnabled'
}
