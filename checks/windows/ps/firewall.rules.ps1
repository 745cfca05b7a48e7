# Enabled inbound allow rules of the effective policy with their port and address filters, and
# the host's own subnets (what the keyword LocalSubnet stands for).
try {
    $rules = @(Get-NetFirewallRule -PolicyStore ActiveStore -Direction Inbound -Action Allow -Enabled True)
} catch {
    if ($_.FullyQualifiedErrorId -notlike 'CmdletizationQuery_NotFound*') { throw }
    $rules = @()
}
$ports = @{}
Get-NetFirewallPortFilter -PolicyStore ActiveStore | ForEach-Object { $ports[$_.InstanceID] = $_ }
$addresses = @{}
Get-NetFirewallAddressFilter -PolicyStore ActiveStore | ForEach-Object { $addresses[$_.InstanceID] = $_ }
$programs = @{}
Get-NetFirewallApplicationFilter -PolicyStore ActiveStore | ForEach-Object { $programs[$_.InstanceID] = $_ }
$subnets = @(Get-NetIPAddress | Where-Object { $_.IPAddress -notlike '127.*' -and $_.IPAddress -ne '::1' } |
    ForEach-Object { '{0}/{1}' -f $_.IPAddress, $_.PrefixLength })
[pscustomobject]@{
    LocalSubnets = $subnets
    Rules = @(foreach ($rule in $rules) {
        $port = $ports[$rule.InstanceID]
        $address = $addresses[$rule.InstanceID]
        $program = $programs[$rule.InstanceID]
        [pscustomobject]@{
            Name = $rule.Name
            DisplayName = $rule.DisplayName
            Group = $rule.DisplayGroup
            Profile = $rule.Profile.ToString()
            Protocol = "$($port.Protocol)"
            LocalPort = @($port.LocalPort | ForEach-Object { "$_" })
            RemoteAddress = @($address.RemoteAddress | ForEach-Object { "$_" })
            Program = $program.Program
        }
    })
}
