# baluarte-windows-fix id=firewall-profiles
# firewall.enabled / firewall.default_inbound_deny: the given profiles on, inbound Block.
# WinRM guard, again on the host and before any change (the rules of
# deploys/windows/firewall_guard.py): in each given profile an enabled inbound allow rule must
# provably let TCP $WinrmPort in from $BaluarteAddress ('' when unknown: then only RemoteAddress
# Any proves it) for the program System (http.sys) with no other condition, the profile must not
# ignore allow rules (AllowInboundRules False) and no Block rule may match, or nothing changes.
# Never touches the WinRM service or any firewall rule.
param([string[]]$Profiles, [int]$WinrmPort, [string]$BaluarteAddress, [switch]$DryRun)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# PS 5.1 writes an array as {"value":[...],"Count":n} while this type data is loaded (as
# the check script does): this session's type table only, not the host.
Get-TypeData -TypeName System.Array | Remove-TypeData -ErrorAction SilentlyContinue
function Get-ProfileState {
    @(Get-NetFirewallProfile -Name $Profiles -PolicyStore ActiveStore | ForEach-Object {
        [ordered]@{
            Name = [string]$_.Name
            Enabled = $_.Enabled.ToString()
            DefaultInboundAction = $_.DefaultInboundAction.ToString()
        }
    })
}
function Get-AddressBytes {
    # An address's bytes (IPv4-mapped IPv6 as IPv4), or $null when the text is not an address.
    param([string]$Text)
    $ip = $null
    if (-not [System.Net.IPAddress]::TryParse($Text.Trim(), [ref]$ip)) { return $null }
    if ($ip.IsIPv4MappedToIPv6) { $ip = $ip.MapToIPv4() }
    , $ip.GetAddressBytes()
}
function Compare-Bytes {
    param([byte[]]$A, [byte[]]$B)
    for ($i = 0; $i -lt $A.Length; $i++) {
        if ($A[$i] -lt $B[$i]) { return -1 }
        if ($A[$i] -gt $B[$i]) { return 1 }
    }
    0
}
function Test-Within {
    # $Entry (an address, a network as /length or /mask, or a range low-high) holds $Me.
    param([string]$Entry, [byte[]]$Me)
    if ($null -eq $Me) { return $false }
    if ($Entry.Contains('-')) {
        $ends = $Entry.Split([char[]]'-', 2)
        $low = Get-AddressBytes $ends[0]
        $high = Get-AddressBytes $ends[1]
        if ($null -eq $low -or $null -eq $high) { return $false }
        if ($low.Length -ne $Me.Length -or $high.Length -ne $Me.Length) { return $false }
        return ((Compare-Bytes $low $Me) -le 0) -and ((Compare-Bytes $Me $high) -le 0)
    }
    $parts = $Entry.Split([char[]]'/', 2)
    $net = Get-AddressBytes $parts[0]
    if ($null -eq $net -or $net.Length -ne $Me.Length) { return $false }
    $bits = $Me.Length * 8
    $mask = $null
    if ($parts.Count -eq 2) {
        $length = 0
        if ([int]::TryParse($parts[1], [ref]$length)) {
            $bits = $length
        } else {
            $mask = Get-AddressBytes $parts[1]
            if ($null -eq $mask -or $mask.Length -ne $Me.Length) { return $false }
        }
    }
    if ($bits -lt 0 -or $bits -gt $Me.Length * 8) { return $false }
    for ($i = 0; $i -lt $Me.Length; $i++) {
        if ($null -ne $mask) {
            $m = [int]$mask[$i]
        } else {
            $m = (0xFF -shl (8 - [Math]::Max(0, [Math]::Min(8, $bits - 8 * $i)))) -band 0xFF
        }
        if (([int]$net[$i] -band $m) -ne ([int]$Me[$i] -band $m)) { return $false }
    }
    $true
}
function Test-Network {
    param([string]$Entry)
    $null -ne (Get-AddressBytes ($Entry.Split([char[]]'-/', 2)[0]))
}
function Test-Any {
    param([object[]]$Values)
    @($Values | Where-Object { "$_" -eq 'Any' }).Count -gt 0
}
function Test-Port {
    param([object[]]$Ports)
    foreach ($port in $Ports) {
        $text = "$port"
        if ($text -eq 'Any') { return $true }
        if ($text -match '^(\d+)(-(\d+))?$') {
            $low = [int]$Matches[1]
            $high = $low
            if ($Matches[3]) { $high = [int]$Matches[3] }
            if ($low -le $WinrmPort -and $WinrmPort -le $high) { return $true }
        }
    }
    $false
}
function Test-Profile {
    param($Rule, [string]$Name)
    $Rule.Profile -eq 'Any' -or @($Rule.Profile -split ',\s*') -contains $Name
}
function Test-Admits {
    # Every condition of the allow rule provably matches WinRM's connection in this profile.
    param($Rule, $Row)
    if ($Rule.Action -ne 'Allow') { return $false }
    if (@('TCP', '6', 'Any') -notcontains $Rule.Protocol) { return $false }
    if (-not (Test-Port $Rule.LocalPort)) { return $false }
    if (@('Any', 'System') -notcontains $Rule.Program) { return $false }
    if ($Rule.Service -ne 'Any' -or $Rule.Package) { return $false }
    if (-not (Test-Profile $Rule ([string]$Row.Name))) { return $false }
    if (-not (Test-Any $Rule.RemoteAddress)) {
        $mine = @($Rule.RemoteAddress | Where-Object { Test-Within $_ $me })
        if ($mine.Count -eq 0) { return $false }
    }
    if (-not (Test-Any $Rule.LocalAddress) -or -not (Test-Any $Rule.InterfaceAlias)) { return $false }
    if ($Rule.InterfaceType -ne 'Any' -or $Rule.Authentication -ne 'NotRequired') { return $false }
    if ($Row.AllowLocalFirewallRules.ToString() -eq 'False' -and $Rule.Source -ne 'GroupPolicy') {
        return $false
    }
    $true
}
function Test-Blocks {
    # A Block rule that could match WinRM's connection: ruled out only by what provably differs.
    param($Rule, [string]$Name)
    if ($Rule.Action -ne 'Block' -or -not (Test-Profile $Rule $Name)) { return $false }
    $protocol = $Rule.Protocol
    if (@('TCP', '6', 'Any') -notcontains $protocol -and
        ($protocol -match '^\d+$' -or @('UDP', 'ICMPv4', 'ICMPv6') -contains $protocol)) {
        return $false
    }
    $keywords = @($Rule.LocalPort | Where-Object { $_ -ne 'Any' -and $_ -notmatch '^\d+(-\d+)?$' })
    if ($Rule.LocalPort.Count -gt 0 -and $keywords.Count -eq 0 -and -not (Test-Port $Rule.LocalPort)) {
        return $false
    }
    if ($null -ne $me -and $Rule.RemoteAddress.Count -gt 0 -and -not (Test-Any $Rule.RemoteAddress)) {
        $networks = @($Rule.RemoteAddress | Where-Object { Test-Network $_ })
        $mine = @($networks | Where-Object { Test-Within $_ $me })
        if ($networks.Count -eq $Rule.RemoteAddress.Count -and $mine.Count -eq 0) { return $false }
    }
    $program = $Rule.Program
    -not ($program -and @('Any', 'System') -notcontains $program -and $program -like '*.exe')
}
$me = $null
if ($BaluarteAddress) { $me = Get-AddressBytes $BaluarteAddress }
$who = if ($BaluarteAddress) { $BaluarteAddress } else { "Baluarte's address (unknown)" }
$before = Get-ProfileState
$result = [ordered]@{ changed = $false; dryRun = [bool]$DryRun; before = $before; after = $before }
$profileRows = @{}
Get-NetFirewallProfile -PolicyStore ActiveStore | ForEach-Object { $profileRows[[string]$_.Name] = $_ }
try {
    $rules = @(Get-NetFirewallRule -PolicyStore ActiveStore -Direction Inbound -Enabled True)
} catch {
    if ($_.FullyQualifiedErrorId -notlike 'CmdletizationQuery_NotFound*') { throw }
    $rules = @()
}
# Each filter kind read once for the whole store, joined on InstanceID.
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
# A missing filter leaves '' or @(): never proof of an allow, and a Block rule still counts.
$found = @(foreach ($rule in $rules) {
    $id = $rule.InstanceID
    [pscustomobject]@{
        Label = '{0} ({1})' -f $rule.DisplayName, $rule.Name
        Action = $rule.Action.ToString()
        Profile = $rule.Profile.ToString()
        Source = $rule.PolicyStoreSourceType.ToString()
        Protocol = "$($ports[$id].Protocol)"
        LocalPort = @($ports[$id].LocalPort | ForEach-Object { "$_" })
        RemoteAddress = @($addresses[$id].RemoteAddress | ForEach-Object { "$_" })
        LocalAddress = @($addresses[$id].LocalAddress | ForEach-Object { "$_" })
        Program = "$($programs[$id].Program)"
        Package = "$($programs[$id].Package)"
        Service = "$($services[$id].Service)"
        InterfaceType = "$($types[$id].InterfaceType)"
        InterfaceAlias = @($interfaces[$id].InterfaceAlias | ForEach-Object { "$_" })
        Authentication = "$($security[$id].Authentication)"
    }
})
$problems = @()
$winrmRules = @()
foreach ($name in $Profiles) {
    $row = $profileRows[$name]
    if ($null -eq $row) {
        $problems += "${name}: the profile was not found"
        continue
    }
    if ($row.AllowInboundRules.ToString() -eq 'False') {
        $problems += "${name}: AllowInboundRules False, so no allow rule counts"
        continue
    }
    $blocking = @($found | Where-Object { Test-Blocks $_ $name } | ForEach-Object { $_.Label })
    if ($blocking.Count -gt 0) {
        $problems += "${name}: Block rule $($blocking -join ', ') wins over any allow"
        continue
    }
    $admitting = @($found | Where-Object { Test-Admits $_ $row } | ForEach-Object { $_.Label })
    if ($admitting.Count -eq 0) {
        $problems += "${name}: no rule provably lets WinRM in"
        continue
    }
    $winrmRules += $admitting
}
$result['winrmRules'] = @($winrmRules | Select-Object -Unique)
if ($problems.Count -gt 0) {
    $result['error'] = "refused: WinRM (TCP $WinrmPort) from $who is not provably let in: " +
        ($problems -join '; ') + '; turning the firewall on would cut the connection Baluarte uses'
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
