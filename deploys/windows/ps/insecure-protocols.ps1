# baluarte-windows-fix id=insecure-protocols
# access.insecure_admin_protocols: only the parts the check found wrong. SMBv1 server protocol
# off, the SMB1Protocol optional feature disabled (takes effect after a reboot), RDP requires
# Network Level Authentication. A Group Policy value wins over the local one: re-read, report.
# TimeoutSeconds is how long the caller waits for this script (the feature's removal takes
# minutes; stopped half-way it stays pending), not a limit the script applies itself.
param([switch]$Smb1Server, [switch]$Smb1Feature, [switch]$RdpNla, [switch]$DryRun, [int]$TimeoutSeconds = 900)
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
# PS 5.1 writes an array as {"value":[...],"Count":n} while this type data is loaded (as
# the check script does): this session's type table only, not the host.
Get-TypeData -TypeName System.Array | Remove-TypeData -ErrorAction SilentlyContinue
function Get-RdpSetting {
    Get-CimInstance -Namespace 'root/cimv2/TerminalServices' -ClassName Win32_TSGeneralSetting -Filter "TerminalName='RDP-Tcp'"
}
function Get-ProtocolState {
    $state = [ordered]@{}
    if ($Smb1Server) { $state['EnableSMB1Protocol'] = [bool](Get-SmbServerConfiguration).EnableSMB1Protocol }
    if ($Smb1Feature) {
        $state['SMB1FeatureState'] = (Get-WindowsOptionalFeature -Online -FeatureName SMB1Protocol).State.ToString()
    }
    if ($RdpNla) { $state['UserAuthenticationRequired'] = [int](Get-RdpSetting).UserAuthenticationRequired }
    $state
}
$before = Get-ProtocolState
$result = [ordered]@{ changed = $false; dryRun = [bool]$DryRun; before = $before; after = $before; rebootRequired = $false }
if (-not $DryRun) {
    if ($Smb1Server) {
        # splatted: tree-sitter-powershell (the tests' parser) rejects a digit in -EnableSMB1Protocol
        $smb = @{ EnableSMB1Protocol = $false; Force = $true }
        Set-SmbServerConfiguration @smb
    }
    if ($Smb1Feature) {
        $feature = Disable-WindowsOptionalFeature -Online -FeatureName SMB1Protocol -NoRestart
        $result['rebootRequired'] = [bool]$feature.RestartNeeded
    }
    if ($RdpNla) {
        $answer = Invoke-CimMethod -InputObject (Get-RdpSetting) -MethodName SetUserAuthenticationRequired -Arguments @{ UserAuthenticationRequired = [uint32]1 }
        if ($answer.ReturnValue -ne 0) { throw "SetUserAuthenticationRequired(1) returned $($answer.ReturnValue)" }
    }
    $after = Get-ProtocolState
    $result['after'] = $after
    $result['changed'] = $true
    $problems = @()
    if ($Smb1Server -and $after['EnableSMB1Protocol']) { $problems += 'EnableSMB1Protocol is still True' }
    if ($Smb1Feature -and $after['SMB1FeatureState'] -notin @('Disabled', 'DisablePending')) {
        $problems += "SMB1Protocol feature is $($after['SMB1FeatureState'])"
    }
    if ($RdpNla -and $after['UserAuthenticationRequired'] -ne 1) {
        $problems += 'RDP still does not require NLA (a Group Policy sets UserAuthentication 0?)'
    }
    if ($problems.Count -gt 0) { $result['error'] = $problems -join '; ' }
}
[pscustomobject]$result | ConvertTo-Json -Compress -Depth 5
