# Veeam Agent for Microsoft Windows: service, version, jobs and the "Backup Job Finished" events
# (190 in the "Veeam Agent" log: Information = Success, Warning = Warning, Error = Failed).
# The job settings come from Veeam.Agent.Configurator.exe -export, written to a temporary file
# that is deleted at once (allowlisted in checks/windows/script.py).
$uninstall = @(
    'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\*',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\*'
)
$service = Get-Service -Name VeeamEndpointBackupSvc -ErrorAction SilentlyContinue
$product = @(Get-ItemProperty -Path $uninstall -ErrorAction SilentlyContinue |
    Where-Object { $_.DisplayName -like 'Veeam Agent for Microsoft Windows*' }) | Select-Object -First 1
if ($null -eq $service -and $null -eq $product) {
    return [pscustomobject]@{ Installed = $false; ServiceStatus = $null; Version = $null; Jobs = @(); JobsError = $null; LastJob = $null; LastSuccess = $null }
}
$results = @{ 4 = 'Success'; 3 = 'Warning'; 2 = 'Failed' }
$finished = @()
try {
    $finished = @(Get-WinEvent -FilterHashtable @{ LogName = 'Veeam Agent'; Id = 190 } -MaxEvents 50 |
        ForEach-Object {
            $job = $null
            if ($_.Message -match "'([^']+)'") { $job = $Matches[1] }
            [pscustomobject]@{
                TimeCreated = ConvertTo-IsoDate $_.TimeCreated
                Result = $results[[int]$_.Level]
                Job = $job
                Message = $_.Message
            }
        })
} catch {
    $finished = @()
}
$success = @($finished | Where-Object { $_.Result -eq 'Success' -or $_.Result -eq 'Warning' }) | Select-Object -First 1
$jobs = $null
$jobsError = $null
$configurator = Join-Path -Path $env:ProgramFiles -ChildPath 'Veeam\Endpoint Backup\Veeam.Agent.Configurator.exe'
$export = Join-Path -Path $env:TEMP -ChildPath ('baluarte-veeam-{0}.xml' -f [guid]::NewGuid())
try {
    if (-not (Test-Path -LiteralPath $configurator)) { throw ('{0} not found' -f $configurator) }
    $null = & $configurator -export "/f:$export"
    [xml]$settings = Get-Content -LiteralPath $export -Raw
    # The export's layout (Veeam Agent Configurator reference, "Input and Output XML Files"):
    # one JobInfo per job with its name in the JobName attribute, the backup mode on
    # SourceInfo/EpDiskFilter, the target's attributes on TargetInfo (its ServerCredentials
    # child is never read), encryption on StorageInfo/Encryption. Attributes by GetAttribute:
    # PowerShell's XML adapter answers .Name with the element's own name ("JobInfo").
    $jobs = @(foreach ($node in $settings.SelectNodes('//JobInfo')) {
        $encrypted = $null
        $encryption = $node.SelectSingleNode('StorageInfo/Encryption')
        if ($null -ne $encryption -and $encryption.HasAttribute('Enabled')) {
            $encrypted = $encryption.GetAttribute('Enabled') -eq 'True'
        }
        $mode = ''
        $disk = $node.SelectSingleNode('SourceInfo/EpDiskFilter')
        if ($null -ne $disk -and $disk.HasAttribute('BackupMode')) {
            $mode = 'BackupMode ' + $disk.GetAttribute('BackupMode')
        }
        $where = ''
        $target = $node.SelectSingleNode('TargetInfo')
        if ($null -ne $target) {
            $where = @(foreach ($attribute in $target.Attributes) {
                if ($attribute.LocalName -notmatch 'Password|Credential|Key|Secret|Token') {
                    '{0}={1}' -f $attribute.LocalName, $attribute.Value
                }
            }) -join ' '
        }
        [pscustomobject]@{
            Name = $node.GetAttribute('JobName')
            Type = $mode
            Target = $where
            Encrypted = $encrypted
        }
    })
} catch {
    $jobsError = $_.Exception.Message
} finally {
    if (Test-Path -LiteralPath $export) { Remove-Item -LiteralPath $export -Force }
}
$serviceStatus = $null
if ($null -ne $service) { $serviceStatus = $service.Status.ToString() }
[pscustomobject]@{
    Installed = $true
    ServiceStatus = $serviceStatus
    Version = $product.DisplayVersion
    Jobs = $jobs
    JobsError = $jobsError
    LastJob = $finished | Select-Object -First 1
    LastSuccess = $success
}
