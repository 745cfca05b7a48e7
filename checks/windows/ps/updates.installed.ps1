# Get-HotFix sees CBS updates only; the Windows Update Agent history sees the rest.
$hotfixes = @(Get-HotFix | ForEach-Object {
    [pscustomobject]@{
        HotFixID = $_.HotFixID
        Description = $_.Description
        InstalledOn = ConvertTo-IsoDate $_.InstalledOn
    }
})
$latest = $null
$dated = @($hotfixes | Where-Object { $null -ne $_.InstalledOn } | Sort-Object -Property InstalledOn)
if ($dated.Count -gt 0) { $latest = $dated[-1] }
$session = New-Object -ComObject Microsoft.Update.Session
$searcher = $session.CreateUpdateSearcher()
$total = $searcher.GetTotalHistoryCount()
$history = @()
if ($total -gt 0) { $history = @($searcher.QueryHistory(0, [Math]::Min($total, 100))) }
# Operation 1 = installation; ResultCode 2 = succeeded, 3 = succeeded with errors, 4 = failed
$installs = @($history | Where-Object { $_.Operation -eq 1 })
$succeeded = @($installs | Where-Object { $_.ResultCode -eq 2 -or $_.ResultCode -eq 3 } |
    Sort-Object -Property Date -Descending)
$last = $null
if ($succeeded.Count -gt 0) {
    $last = [pscustomobject]@{
        Title = $succeeded[0].Title
        Date = ConvertTo-IsoDate $succeeded[0].Date -AssumeUtc
    }
}
[pscustomobject]@{
    HotFixCount = $hotfixes.Count
    LatestHotFix = $latest
    LastSuccessfulInstall = $last
    FailedInstallsLast100 = @($installs | Where-Object { $_.ResultCode -eq 4 }).Count
    HotFixes = $hotfixes
}
