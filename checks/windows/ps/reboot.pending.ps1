# Registry signals (Microsoft.Update.SystemInfo is not available to remote users). When the need
# arose: the oldest event since boot that asked for it (Setup log 4: "A reboot is necessary
# before package … can be changed to the Installed state"; WindowsUpdateClient 19: installed).
$cbs = Test-Path -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
$wu = Test-Path -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
$renames = Get-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager' -Name 'PendingFileRenameOperations'
$active = Get-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName' -Name 'ComputerName'
$next = Get-RegistryValue -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName' -Name 'ComputerName'
$signals = [pscustomobject]@{
    CBSRebootPending = [bool]$cbs
    WURebootRequired = [bool]$wu
    PendingFileRename = ($null -ne $renames -and @($renames).Count -gt 0)
    ComputerRenamePending = ($active -ne $next)
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
