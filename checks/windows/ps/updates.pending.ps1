# The search itself started before the checks (_updates_search.ps1); this waits for its answer
# until $baluarteSearchSeconds after the script started.
$securityIds = @('0fa1201d-4330-4fa8-8ae9-b877473b6441', 'e6cf1350-c01b-414d-a61f-263d14d133b4')
$criticalId = 'e6cf1350-c01b-414d-a61f-263d14d133b4'
if ($null -eq $baluarteSearchHandle) {
    throw ('the Windows Update search could not start: {0}' -f $baluarteSearchStartError)
}
$left = $baluarteSearchSeconds - ([datetime]::UtcNow - $baluarteNow).TotalSeconds
if (-not $baluarteSearchHandle.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds([Math]::Max(0, $left)))) {
    [void]$baluarteSearch.BeginStop($null, $null)
    throw ('the Windows Update search did not finish within {0} s' -f $baluarteSearchSeconds)
}
# a failure inside the search (a COM error, the service disabled) is thrown here
$answer = @($baluarteSearch.EndInvoke($baluarteSearchHandle))
if ($answer.Count -ne 1) { throw ('the Windows Update search gave {0} answers' -f $answer.Count) }
$updates = @($answer[0].Updates)
$security = @($updates | Where-Object {
    $ids = $_.CategoryIDs
    @($securityIds | Where-Object { $ids -contains $_ }).Count -gt 0 -or
        $_.MsrcSeverity -eq 'Critical' -or $_.MsrcSeverity -eq 'Important'
})
[pscustomobject]@{
    ResultCode = $answer[0].ResultCode
    PendingCount = $updates.Count
    SecurityCount = $security.Count
    CriticalCount = @($updates | Where-Object { $_.CategoryIDs -contains $criticalId }).Count
    Updates = $updates
}
