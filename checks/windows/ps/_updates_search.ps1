# The Windows Update search starts before the checks, in a runspace of its own: an online search
# often takes minutes, so it runs while the other checks do, and only updates.pending waits for
# it, until $baluarteSearchSeconds after the script started. A search still running then is
# that check's error alone; the other controls keep their results. Searching is available to
# remote users (installing is not). Category names are in the user's UI language: classify by
# the WSUS classification GUIDs (CategoryIDs, parallel to Categories); the fix selects updates
# by UpdateID, never by title. The runspace has none of this script's functions: it returns
# plain values, dates as ISO 8601 UTC text.
$baluarteSearch = $null
$baluarteSearchHandle = $null
$baluarteSearchStartError = $null
try {
    $baluarteSearch = [powershell]::Create()
    [void]$baluarteSearch.AddScript({
        $ErrorActionPreference = 'Stop'
        $session = New-Object -ComObject Microsoft.Update.Session
        $searcher = $session.CreateUpdateSearcher()
        $result = $searcher.Search("IsInstalled=0 and Type='Software' and IsHidden=0")
        $updates = @(foreach ($update in $result.Updates) {
            $categories = @()
            if ($null -ne $update.Categories) { $categories = @($update.Categories) }
            $released = $null
            if ($null -ne $update.LastDeploymentChangeTime) {
                $released = $update.LastDeploymentChangeTime.ToUniversalTime().ToString('o')
            }
            [pscustomobject]@{
                Title = $update.Title
                UpdateID = [string]$update.Identity.UpdateID
                KB = @(foreach ($kb in $update.KBArticleIDs) { 'KB' + $kb })
                MsrcSeverity = $update.MsrcSeverity
                Categories = @(foreach ($category in $categories) { [string]$category.Name })
                CategoryIDs = @(foreach ($category in $categories) { ([string]$category.CategoryID).ToLowerInvariant() })
                IsDownloaded = [bool]$update.IsDownloaded
                RebootRequired = [bool]$update.RebootRequired
                ReleaseDate = $released
            }
        })
        [pscustomobject]@{ ResultCode = [int]$result.ResultCode; Updates = $updates }
    })
    $baluarteSearchHandle = $baluarteSearch.BeginInvoke()
} catch {
    $baluarteSearchStartError = $_.Exception.Message
}
