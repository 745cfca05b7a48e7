# Searching is available to remote users (installing is not); it may take minutes.
$session = New-Object -ComObject Microsoft.Update.Session
$searcher = $session.CreateUpdateSearcher()
$result = $searcher.Search("IsInstalled=0 and Type='Software' and IsHidden=0")
$updates = @(foreach ($update in $result.Updates) {
    [pscustomobject]@{
        Title = $update.Title
        KB = @(foreach ($kb in $update.KBArticleIDs) { 'KB' + $kb })
        MsrcSeverity = $update.MsrcSeverity
        Categories = @(foreach ($category in $update.Categories) { $category.Name })
        IsDownloaded = [bool]$update.IsDownloaded
        RebootRequired = [bool]$update.RebootRequired
        ReleaseDate = ConvertTo-IsoDate $update.LastDeploymentChangeTime
    }
})
$security = @($updates | Where-Object {
    $_.Categories -contains 'Security Updates' -or $_.MsrcSeverity -eq 'Critical' -or
    $_.MsrcSeverity -eq 'Important'
})
[pscustomobject]@{
    ResultCode = [int]$result.ResultCode
    PendingCount = $updates.Count
    SecurityCount = $security.Count
    CriticalCount = @($updates | Where-Object { $_.Categories -contains 'Critical Updates' }).Count
    Updates = $updates
}
