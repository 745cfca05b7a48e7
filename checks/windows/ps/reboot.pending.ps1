# Registry signals (Microsoft.Update.SystemInfo is not available to remote users). When the need
# arose: the oldest event since boot that asked for it (Setup log 4: "A reboot is necessary
# before package … can be changed to the Installed state"; WindowsUpdateClient 19: installed).
# Windows Update also asks through Services\Pending (a subkey per service) and Updates'
# UpdateExeVolatile (non-zero); a domain join waits in Netlogon's JoinDomain / AvoidSpnSet:
# they are reported with the Windows Update and computer-name signals. PendingFileRename-
# Operations is often stale (entries for files long gone): it counts only while one of the files
# it would rename or delete still exists.
$cbs = Test-Path -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
$wuKey = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate'
$wu = (Test-Path -Path "$wuKey\Auto Update\RebootRequired") -or
    (@(Get-ChildItem -Path "$wuKey\Services\Pending" -ErrorAction SilentlyContinue).Count -gt 0)
$volatile = Get-RegistryValue -Path 'HKLM:\SOFTWARE\Microsoft\Updates' -Name 'UpdateExeVolatile'
if ($null -ne $volatile -and [int64]$volatile -ne 0) { $wu = $true }
$renames = @(Get-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -Name 'PendingFileRenameOperations')
$liveRenames = @($renames | Where-Object { $_ } | ForEach-Object { $_ -replace '^!?\\\?\?\\', '' } |
    Where-Object { Test-Path -LiteralPath $_ -ErrorAction SilentlyContinue })
$active = Get-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName' -Name 'ComputerName'
$next = Get-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName' -Name 'ComputerName'
$netlogon = 'HKLM:\SYSTEM\CurrentControlSet\Services\Netlogon'
$joining = (Test-Path -Path "$netlogon\JoinDomain") -or (Test-Path -Path "$netlogon\AvoidSpnSet") -or
    ($null -ne (Get-RegistryValue -Path $netlogon -Name 'AvoidSpnSet'))
$signals = [pscustomobject]@{
    CBSRebootPending = [bool]$cbs
    WURebootRequired = [bool]$wu
    PendingFileRename = ($liveRenames.Count -gt 0)
    ComputerRenamePending = (($active -ne $next) -or [bool]$joining)
}
$pending = $signals.CBSRebootPending -or $signals.WURebootRequired -or $signals.PendingFileRename -or
    $signals.ComputerRenamePending
$since = $null
$sinceSource = $null
if ($pending) {
    $boot = (Get-CimInstance -ClassName Win32_OperatingSystem).LastBootUpTime
    $events = @()
    foreach ($filter in @(
            @{ LogName = 'Setup'; Id = 4; StartTime = $boot },
            @{ LogName = 'System'; ProviderName = 'Microsoft-Windows-WindowsUpdateClient'; Id = 19; StartTime = $boot })) {
        try { $events += @(Get-WinEvent -FilterHashtable $filter) } catch { $events += @() }
    }
    $oldest = @($events | Sort-Object -Property TimeCreated) | Select-Object -First 1
    if ($null -ne $oldest) {
        $since = ConvertTo-IsoDate $oldest.TimeCreated
        $sinceSource = '{0} event {1}' -f $oldest.LogName, $oldest.Id
    }
}
[pscustomobject]@{
    RebootPending = [bool]$pending
    Signals = $signals
    Since = $since
    SinceSource = $sinceSource
}
