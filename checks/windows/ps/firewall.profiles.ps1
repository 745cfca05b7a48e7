# The effective policy (local merged with GPO); NotConfigured inbound means the default, Block.
,@(Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object {
    [pscustomobject]@{
        Name = $_.Name
        Enabled = $_.Enabled.ToString()
        DefaultInboundAction = $_.DefaultInboundAction.ToString()
        DefaultOutboundAction = $_.DefaultOutboundAction.ToString()
        AllowLocalFirewallRules = $_.AllowLocalFirewallRules.ToString()
        LogBlocked = $_.LogBlocked.ToString()
        LogFileName = $_.LogFileName
    }
})
