# Enabled inbound rules of the effective policy, allow and block, with every condition that
# decides whether a connection matches: port, address, program, service, package, interface
# and IPsec filters. Each filter kind is read ONCE for the whole store and joined on InstanceID
# (one query per filter kind, not one per rule). Enums as names (.ToString()). Also the host's
# own subnets (what the keyword LocalSubnet stands for).
try {
    $rules = @(Get-NetFirewallRule -PolicyStore ActiveStore -Direction Inbound -Enabled True)
} catch {
    if ($_.FullyQualifiedErrorId -notlike 'CmdletizationQuery_NotFound*') { throw }
    $rules = @()
}
function Get-FilterTable {
    param([scriptblock]$Query)
    $table = @{}
    & $Query | ForEach-Object { $table[$_.InstanceID] = $_ }
    $table
}
$ports = Get-FilterTable { Get-NetFirewallPortFilter -PolicyStore ActiveStore }
$addresses = Get-FilterTable { Get-NetFirewallAddressFilter -PolicyStore ActiveStore }
$programs = Get-FilterTable { Get-NetFirewallApplicationFilter -PolicyStore ActiveStore }
$services = Get-FilterTable { Get-NetFirewallServiceFilter -PolicyStore ActiveStore }
$types = Get-FilterTable { Get-NetFirewallInterfaceTypeFilter -PolicyStore ActiveStore }
$interfaces = Get-FilterTable { Get-NetFirewallInterfaceFilter -PolicyStore ActiveStore }
$security = Get-FilterTable { Get-NetFirewallSecurityFilter -PolicyStore ActiveStore }
$subnets = @(Get-NetIPAddress | Where-Object { $_.IPAddress -notlike '127.*' -and $_.IPAddress -ne '::1' } |
    ForEach-Object { '{0}/{1}' -f $_.IPAddress, $_.PrefixLength })
function ConvertTo-Texts {
    # A filter's list as text; $null (not @()) when the filter is missing, so the parser refuses.
    param($Filter, [string]$Property)
    if ($null -eq $Filter) { return $null }
    ,@($Filter.$Property | ForEach-Object { "$_" })
}
function ConvertTo-Text {
    param($Filter, [string]$Property)
    if ($null -eq $Filter) { return $null }
    "$($Filter.$Property)"
}
[pscustomobject]@{
    LocalSubnets = $subnets
    Rules = @(foreach ($rule in $rules) {
        $id = $rule.InstanceID
        [pscustomobject]@{
            Name = $rule.Name
            DisplayName = $rule.DisplayName
            Group = $rule.DisplayGroup
            Enabled = $rule.Enabled.ToString()
            Direction = $rule.Direction.ToString()
            Action = $rule.Action.ToString()
            Profile = $rule.Profile.ToString()
            Source = $rule.PolicyStoreSourceType.ToString()
            Protocol = ConvertTo-Text $ports[$id] 'Protocol'
            LocalPort = ConvertTo-Texts $ports[$id] 'LocalPort'
            RemoteAddress = ConvertTo-Texts $addresses[$id] 'RemoteAddress'
            LocalAddress = ConvertTo-Texts $addresses[$id] 'LocalAddress'
            Program = ConvertTo-Text $programs[$id] 'Program'
            Package = ConvertTo-Text $programs[$id] 'Package'
            Service = ConvertTo-Text $services[$id] 'Service'
            InterfaceType = ConvertTo-Text $types[$id] 'InterfaceType'
            InterfaceAlias = ConvertTo-Texts $interfaces[$id] 'InterfaceAlias'
            Authentication = ConvertTo-Text $security[$id] 'Authentication'
        }
    })
}
