# Get-HotFix sees CBS updates only; the Windows Update Agent history sees the rest.
# InstalledOn is parsed by PowerShell from WMI text, in a format that varies with the host (and
# a FILETIME in hex on some): one it cannot read leaves that hotfix undated, not the check failed.
$hotfixes = @(Get-HotFix | ForEach-Object {
    $installedOn = $null
    try { $installedOn = ConvertTo-IsoDate $_.InstalledOn } catch { $installedOn = $null }
    [pscustomobject]@{
        HotFixID = $_.HotFixID
        Description = $_.Description
        InstalledOn = $installedOn
    }
})
$latest = $null
$dated = @($hotfixes | Where-Object { $null -ne $_.InstalledOn } | Sort-Object -Property InstalledOn)
if ($dated.Count -gt 0) { $latest = $dated[-1] }
# The history holds Defender definition updates too (several a day): each entry carries its
# category GUIDs (IUpdateHistoryEntry2.Categories) so the parser counts real updates only.
# A disabled Windows Update service fails the history query: Get-HotFix still answers.
$history = @()
$failed = $null
$historyError = $null
try {
    $session = New-Object -ComObject Microsoft.Update.Session
    $searcher = $session.CreateUpdateSearcher()
    $total = $searcher.GetTotalHistoryCount()
    $entries = @()
    if ($total -gt 0) { $entries = @($searcher.QueryHistory(0, [Math]::Min($total, 100))) }
    # Operation 1 = installation; ResultCode 2 = succeeded, 3 = succeeded with errors, 4 = failed
    $installs = @($entries | Where-Object { $_.Operation -eq 1 })
    $failed = @($installs | Where-Object { $_.ResultCode -eq 4 }).Count
    $history = @($installs | Where-Object { $_.ResultCode -eq 2 -or $_.ResultCode -eq 3 } |
        Sort-Object -Property Date -Descending | ForEach-Object {
            $categories = @()
            if ($null -ne $_.Categories) { $categories = @($_.Categories) }
            [pscustomobject]@{
                Title = $_.Title
                UpdateID = [string]$_.UpdateIdentity.UpdateID
                Date = ConvertTo-IsoDate $_.Date -AssumeUtc
                ResultCode = [int]$_.ResultCode
                CategoryIDs = @(foreach ($category in $categories) { ([string]$category.CategoryID).ToLowerInvariant() })
            }
        })
} catch {
    $historyError = $_.Exception.Message
}
[pscustomobject]@{
    HotFixCount = $hotfixes.Count
    LatestHotFix = $latest
    FailedInstallsLast100 = $failed
    History = $history
    HistoryError = $historyError
    HotFixes = $hotfixes
}
