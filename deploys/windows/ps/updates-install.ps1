# baluarte-windows-fix id=updates-install
# patching.*updates_pending: install exactly the updates the check listed ($Titles), through a
# one-off scheduled task running as SYSTEM (the Windows Update Agent refuses to download and
# install for a remote WinRM token: E_ACCESSDENIED). The task searches, downloads and installs,
# writes its result file; this script polls for it, then unregisters the task. No reboot.
param([string[]]$Titles, [int]$TimeoutSeconds = 3300, [switch]$DryRun)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
$before = [ordered]@{ pending = @($Titles) }
$result = [ordered]@{ changed = $false; dryRun = [bool]$DryRun; before = $before; after = $before; rebootRequired = $false }
if ($DryRun) {
    [pscustomobject]$result | ConvertTo-Json -Compress -Depth 5
    return
}
$id = [guid]::NewGuid().ToString('N')
$taskPath = '\Baluarte\'
$taskName = "WindowsUpdate-$id"
$resultFile = Join-Path $env:SystemRoot "Temp\baluarte-wu-$id.json"
$wanted = ConvertTo-Json -Compress -InputObject @($Titles)
$inner = @'
$ErrorActionPreference = 'Stop'
$wanted = @(ConvertFrom-Json '__WANTED__')
$out = [ordered]@{ found = 0; installed = @(); notFound = @(); resultCode = $null; rebootRequired = $false; error = $null; finished = $null }
try {
    $session = New-Object -ComObject Microsoft.Update.Session
    $search = $session.CreateUpdateSearcher().Search('IsInstalled=0')
    $chosen = New-Object -ComObject Microsoft.Update.UpdateColl
    $titles = @()
    foreach ($update in $search.Updates) {
        $titles += $update.Title
        if ($wanted -contains $update.Title) {
            if (-not $update.EulaAccepted) { $update.AcceptEula() }
            [void]$chosen.Add($update)
        }
    }
    $out.found = $chosen.Count
    $out.notFound = @($wanted | Where-Object { $titles -notcontains $_ })
    if ($chosen.Count -gt 0) {
        $downloader = $session.CreateUpdateDownloader()
        $downloader.Updates = $chosen
        [void]$downloader.Download()
        $installer = $session.CreateUpdateInstaller()
        $installer.Updates = $chosen
        $installed = $installer.Install()
        $out.resultCode = [int]$installed.ResultCode
        $out.rebootRequired = [bool]$installed.RebootRequired
        $out.installed = @(for ($i = 0; $i -lt $chosen.Count; $i++) {
            if ($installed.GetUpdateResult($i).ResultCode -eq 2) { $chosen.Item($i).Title }
        })
    }
} catch {
    $out.error = $_.Exception.Message
}
$out.finished = (Get-Date).ToUniversalTime().ToString('o')
[pscustomobject]$out | ConvertTo-Json -Compress -Depth 4 | Set-Content -LiteralPath '__RESULT__' -Encoding UTF8
'@
$inner = $inner.Replace('__WANTED__', $wanted.Replace("'", "''")).Replace('__RESULT__', $resultFile)
$encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($inner))
$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument "-NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand $encoded"
$principal = New-ScheduledTaskPrincipal -UserId 'NT AUTHORITY\SYSTEM' -LogonType ServiceAccount -RunLevel Highest
$settings = New-ScheduledTaskSettingsSet -ExecutionTimeLimit (New-TimeSpan -Seconds $TimeoutSeconds) -AllowStartIfOnBatteries -DontStopIfGoingOnBatteries
Register-ScheduledTask -TaskPath $taskPath -TaskName $taskName -Action $action -Principal $principal -Settings $settings | Out-Null
$answer = $null
try {
    Start-ScheduledTask -TaskPath $taskPath -TaskName $taskName
    $deadline = (Get-Date).AddSeconds($TimeoutSeconds)
    while ($null -eq $answer -and (Get-Date) -lt $deadline) {
        Start-Sleep -Seconds 10
        if (Test-Path -LiteralPath $resultFile) {
            # the task may still be writing it: a partial file does not parse yet
            try { $answer = Get-Content -LiteralPath $resultFile -Raw | ConvertFrom-Json } catch { $answer = $null }
        }
    }
} finally {
    # a task still running is left to finish (stopping an installation half-way is worse)
    if ($null -ne $answer -or -not (Test-Path -LiteralPath $resultFile)) {
        $running = (Get-ScheduledTask -TaskPath $taskPath -TaskName $taskName).State -eq 'Running'
        if (-not $running) { Unregister-ScheduledTask -TaskPath $taskPath -TaskName $taskName -Confirm:$false }
    }
}
if ($null -eq $answer) {
    $result['error'] = "the update task $taskPath$taskName did not finish within $TimeoutSeconds s; " +
        'it is left to finish: check Get-ScheduledTask and the Windows Update history'
} else {
    Remove-Item -LiteralPath $resultFile -Force
    $result['changed'] = @($answer.installed).Count -gt 0
    $result['after'] = [ordered]@{
        installed = @($answer.installed)
        notFound = @($answer.notFound)
        resultCode = $answer.resultCode
        finished = $answer.finished
    }
    $result['rebootRequired'] = [bool]$answer.rebootRequired
    if ($answer.error) {
        $result['error'] = "Windows Update: $($answer.error)"
    } elseif ($answer.found -gt 0 -and $answer.resultCode -notin @(2, 3)) {
        $result['error'] = "Windows Update installation ended with ResultCode $($answer.resultCode)"
    } elseif (@($answer.installed).Count -lt $answer.found) {
        $result['error'] = "$(@($answer.installed).Count) of $($answer.found) updates installed"
    }
}
[pscustomobject]$result | ConvertTo-Json -Compress -Depth 5
