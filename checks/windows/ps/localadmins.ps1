# By SID (the group's name is localised). Get-LocalGroupMember fails on unresolvable or Entra ID
# members ("Failed to compare two elements in the array"): ADSI is the fallback.
try {
    $members = @(Get-LocalGroupMember -SID 'S-1-5-32-544' | ForEach-Object {
        [pscustomobject]@{
            Name = $_.Name
            SID = $_.SID.Value
            ObjectClass = $_.ObjectClass
            PrincipalSource = "$($_.PrincipalSource)"
        }
    })
    $method = 'Get-LocalGroupMember'
} catch {
    $group = Get-LocalGroup -SID 'S-1-5-32-544'
    $adsi = [ADSI]('WinNT://./{0},group' -f $group.Name)
    $members = @(foreach ($member in $adsi.Invoke('Members')) {
        $type = $member.GetType()
        $path = $type.InvokeMember('ADsPath', 'GetProperty', $null, $member, $null)
        $sidBytes = $type.InvokeMember('objectSid', 'GetProperty', $null, $member, $null)
        [pscustomobject]@{
            # WinNT://WORKGROUP/PC/user or WinNT://DOMAIN/user: Get-LocalGroupMember's "PC\user"
            Name = (@(($path -replace '^WinNT://', '') -split '/') | Select-Object -Last 2) -join '\'
            SID = (New-Object -TypeName System.Security.Principal.SecurityIdentifier -ArgumentList $sidBytes, 0).Value
            ObjectClass = $type.InvokeMember('Class', 'GetProperty', $null, $member, $null)
            PrincipalSource = $null
        }
    })
    $method = 'ADSI'
}
[pscustomobject]@{ Method = $method; Count = $members.Count; Members = $members }
