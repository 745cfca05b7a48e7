# baluarte-windows-fix id=updates-install
# patching.*updates_pending: install exactly the updates the check listed, by UpdateID ($UpdateIds;
# titles are localised per user and the task runs as SYSTEM), through a one-off scheduled task
# running as SYSTEM (the Windows Update Agent refuses to download and install for a remote WinRM
# token: E_ACCESSDENIED). The task searches, downloads and installs, writes its result file; this
# script polls for it, then unregisters the task. No reboot. An update the task does not find (nor
# finds installed already), or fewer installed than asked, is an error: the fix did not do it.
param([string[]]$UpdateIds, [int]$TimeoutSeconds = 3300, [switch]$DryRun)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# PS 5.1 writes an array as {"value":[...],"Count":n} while this type data is loaded (as
# the check script does): this session's type table only, not the host.
Get-TypeData -TypeName System.Array | Remove-TypeData -ErrorAction SilentlyContinue
# Each ID must be a GUID: the task's script (which cannot take parameters) gets them as a
# string-array literal, so nothing but hex digits and dashes may reach it. No JSON in between
# (PowerShell 5.1's ConvertFrom-Json emits an array as ONE object).
$ids = @(foreach ($text in @($UpdateIds)) {
    $parsed = [guid]::Empty
    if (-not [guid]::TryParse([string]$text, [ref]$parsed)) { throw "not a Windows Update ID (GUID): '$text'" }
    $parsed.ToString('D')
})
if ($ids.Count -eq 0) { throw 'no update IDs given' }
$before = [ordered]@{ pending = $ids }
$result = [ordered]@{ changed = $false; dryRun = [bool]$DryRun; before = $before; after = $before; rebootRequired = $false }
if ($DryRun) {
    [pscustomobject]$result | ConvertTo-Json -Compress -Depth 5
    return
}
$id = [guid]::NewGuid().ToString('N')
$taskPath = '\Baluarte\'
$taskName = "WindowsUpdate-$id"
$resultFile = Join-Path $env:SystemRoot "Temp\baluarte-wu-$id.json"
$wanted = (@($ids | ForEach-Object { "'$_'" })) -join ', '
$inner = @'
$ErrorActionPreference = 'Stop'
Get-TypeData -TypeName System.Array | Remove-TypeData -ErrorAction SilentlyContinue
$wanted = [string[]]@(__WANTED__)
$out = [ordered]@{ asked = $wanted.Count; found = 0; installed = @(); alreadyInstalled = @(); failed = @(); notFound = @(); resultCode = $null; rebootRequired = $false; error = $null; finished = $null }
try {
    $session = New-Object -ComObject Microsoft.Update.Session
    $search = $session.CreateUpdateSearcher().Search('IsInstalled=0')
    $chosen = New-Object -ComObject Microsoft.Update.UpdateColl
    $seen = @()
    foreach ($update in $search.Updates) {
        $updateId = ([string]$update.Identity.UpdateID).ToLowerInvariant()
        if ($wanted -contains $updateId -and $seen -notcontains $updateId) {
            $seen += $updateId
            if (-not $update.EulaAccepted) { $update.AcceptEula() }
            [void]$chosen.Add($update)
        }
    }
    $out.found = $chosen.Count
    # not pending any more: installed since the check (by another fix of this run, or by
    # Windows Update itself) is done; anything else (superseded, hidden, withdrawn) is not
    $already = @(); $missing = @()
    foreach ($wantedId in @($wanted | Where-Object { $seen -notcontains $_ })) {
        $byId = $session.CreateUpdateSearcher().Search("UpdateID='$wantedId'")
        $isInstalled = $false
        foreach ($update in $byId.Updates) { if ($update.IsInstalled) { $isInstalled = $true } }
        if ($isInstalled) { $already += $wantedId } else { $missing += $wantedId }
    }
    $out.alreadyInstalled = $already
    $out.notFound = $missing
    if ($chosen.Count -gt 0) {
        $downloader = $session.CreateUpdateDownloader()
        $downloader.Updates = $chosen
        [void]$downloader.Download()
        $installer = $session.CreateUpdateInstaller()
        $installer.Updates = $chosen
        $installed = $installer.Install()
        $out.resultCode = [int]$installed.ResultCode
        $out.rebootRequired = [bool]$installed.RebootRequired
        # per update: 2 succeeded, 3 succeeded with errors; anything else did not install
        $done = @(); $notDone = @()
        for ($i = 0; $i -lt $chosen.Count; $i++) {
            $code = [int]$installed.GetUpdateResult($i).ResultCode
            $updateId = ([string]$chosen.Item($i).Identity.UpdateID).ToLowerInvariant()
            if ($code -eq 2 -or $code -eq 3) { $done += $updateId } else { $notDone += "$updateId (ResultCode $code)" }
        }
        $out.installed = $done
        $out.failed = $notDone
    }
} catch {
    $out.error = $_.Exception.Message
}
$out.finished = (Get-Date).ToUniversalTime().ToString('o')
[pscustomobject]$out | ConvertTo-Json -Compress -Depth 4 | Set-Content -LiteralPath '__RESULT__' -Encoding UTF8
'@
$inner = $inner.Replace('__WANTED__', $wanted).Replace('__RESULT__', $resultFile)
$encoded = [Convert]::ToBase64String([Text.Encoding]::Unicode.GetBytes($inner))
$action = New-ScheduledTaskAction -Execute 'powershell.exe' -Argument "-NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand $encoded"
# the SID, not 'NT AUTHORITY\SYSTEM': account names are localised (NT-AUTORITÄT\SYSTEM)
$principal = New-ScheduledTaskPrincipal -UserId 'S-1-5-18' -LogonType ServiceAccount -RunLevel Highest
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
    $installedIds = @($answer.installed)
    $already = @($answer.alreadyInstalled)
    $notFound = @($answer.notFound)
    $result['changed'] = $installedIds.Count -gt 0
    $result['after'] = [ordered]@{
        installed = $installedIds
        alreadyInstalled = $already
        failed = @($answer.failed)
        notFound = $notFound
        resultCode = $answer.resultCode
        finished = $answer.finished
    }
    $result['rebootRequired'] = [bool]$answer.rebootRequired
    if ($answer.error) {
        $result['error'] = "Windows Update: $($answer.error)"
    } elseif ($notFound.Count -gt 0) {
        $result['error'] = "$($notFound.Count) of $($ids.Count) updates not found by Windows Update " +
            "(superseded, hidden or installed since the check?): $($notFound -join ', ')"
    } elseif ($installedIds.Count + $already.Count -lt $ids.Count) {
        $result['error'] = "$($installedIds.Count) of $($ids.Count) updates installed " +
            "(Windows Update ResultCode $($answer.resultCode)); not installed: $(@($answer.failed) -join ', ')"
    }
}
[pscustomobject]$result | ConvertTo-Json -Compress -Depth 5
