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
# ASCII only, every other character as JSON's \uXXXX: a name holding half a UTF-16 pair (NTFS,
# the registry and rule names allow one) cannot travel in PSRP's XML and would cost the whole
# answer; Baluarte shows such a character as an escape.
$json = $document | ConvertTo-Json -Compress -Depth 10
[regex]::Replace($json, '[^\u0000-\u007F]', { param($m) '\u{0:x4}' -f [int][char]$m.Value })
