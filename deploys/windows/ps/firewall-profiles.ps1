# baluarte-windows-fix id=firewall-profiles
# firewall.enabled / firewall.default_inbound_deny: the given profiles on, inbound Block.
# WinRM guard, again on the host: nothing changes unless an enabled inbound allow rule for TCP
# $WinrmPort exists. Never touches the WinRM service or any firewall rule.
param([string[]]$Profiles, [int]$WinrmPort, [switch]$DryRun)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
function Get-ProfileState {
    @(Get-NetFirewallProfile -Name $Profiles -PolicyStore ActiveStore | ForEach-Object {
        [ordered]@{
            Name = [string]$_.Name
            Enabled = $_.Enabled.ToString()
            DefaultInboundAction = $_.DefaultInboundAction.ToString()
        }
    })
}
$before = Get-ProfileState
$result = [ordered]@{ changed = $false; dryRun = [bool]$DryRun; before = $before; after = $before }
$winrmRules = @(Get-NetFirewallRule -Direction Inbound -Enabled True -Action Allow -PolicyStore ActiveStore |
    Where-Object {
        $filter = $_ | Get-NetFirewallPortFilter
        $ports = @($filter.LocalPort | ForEach-Object { [string]$_ })
        ($filter.Protocol -eq 'TCP' -or $filter.Protocol -eq 'Any') -and
            ($ports -contains 'Any' -or $ports -contains [string]$WinrmPort)
    } | ForEach-Object { [string]$_.DisplayName })
$result['winrmRules'] = $winrmRules
if ($winrmRules.Count -eq 0) {
    $result['error'] = "refused: no enabled inbound allow rule for TCP $WinrmPort (WinRM); " +
        'turning the firewall on would cut the connection Baluarte uses'
} elseif (-not $DryRun) {
    Set-NetFirewallProfile -Profile $Profiles -Enabled True -DefaultInboundAction Block
    $after = Get-ProfileState
    $result['after'] = $after
    $result['changed'] = $true
    $wrong = @($after | Where-Object { $_.Enabled -ne 'True' -or $_.DefaultInboundAction -ne 'Block' })
    if ($wrong.Count -gt 0) {
        $names = ($wrong | ForEach-Object { $_.Name }) -join ', '
        $result['error'] = "profiles $names still not on with inbound Block: a Group Policy wins " +
            'over the local setting'
    }
}
[pscustomobject]$result | ConvertTo-Json -Compress -Depth 5
