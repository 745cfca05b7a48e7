# The SMB1 server setting and the optional feature (clients) or role feature (servers).
$configuration = Get-SmbServerConfiguration
$productType = (Get-CimInstance -ClassName Win32_OperatingSystem).ProductType
$feature = $null
if ($productType -eq 1) {
    $feature = (Get-WindowsOptionalFeature -Online -FeatureName SMB1Protocol).State.ToString()
} else {
    $feature = (Get-WindowsFeature -Name FS-SMB1).InstallState.ToString()
}
[pscustomobject]@{
    ServerEnableSMB1Protocol = [bool]$configuration.EnableSMB1Protocol
    ServerEnableSMB2Protocol = [bool]$configuration.EnableSMB2Protocol
    RequireSecuritySignature = [bool]$configuration.RequireSecuritySignature
    EncryptData = [bool]$configuration.EncryptData
    SMB1FeatureState = $feature
}
