# The document: the host's identity and clock, and every check's envelope, as ONE JSON string.
$computer = $null
try { $computer = Get-CimInstance -ClassName Win32_ComputerSystem } catch { $computer = $null }
$domain = $null
$joined = $null
if ($null -ne $computer) {
    $domain = $computer.Domain
    $joined = [bool]$computer.PartOfDomain
}
$document = [pscustomobject]@{
    schema = 'baluarte-windows/1'
    host = [pscustomobject]@{
        ComputerName = $env:COMPUTERNAME
        Domain = $domain
        PartOfDomain = $joined
        Now = $baluarteNow.ToString('o')
        PSVersion = $PSVersionTable.PSVersion.ToString()
    }
    checks = $baluarteChecks
}
$document | ConvertTo-Json -Compress -Depth 10
