# The effective policy (local merged with GPO); NotConfigured inbound means the default, Block.
# AllowInboundRules False: the profile ignores every allow rule (what the WinRM guard needs).
,@(Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object {
    [pscustomobject]@{
        Name = $_.Name
        Enabled = $_.Enabled.ToString()
        DefaultInboundAction = $_.DefaultInboundAction.ToString()
        DefaultOutboundAction = $_.DefaultOutboundAction.ToString()
        AllowLocalFirewallRules = $_.AllowLocalFirewallRules.ToString()
        AllowInboundRules = $_.AllowInboundRules.ToString()
        LogBlocked = $_.LogBlocked.ToString()
        LogFileName = $_.LogFileName
    }
})
