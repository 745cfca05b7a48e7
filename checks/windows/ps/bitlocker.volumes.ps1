# Key protector TYPES only: a recovery password is never read.
if ($null -eq (Get-Command -Name Get-BitLockerVolume -ErrorAction SilentlyContinue)) {
    return [pscustomobject]@{ Available = $false; SystemDrive = $env:SystemDrive; Volumes = @() }
}
[pscustomobject]@{
    Available = $true
    SystemDrive = $env:SystemDrive
    Volumes = @(Get-BitLockerVolume | ForEach-Object {
        [pscustomobject]@{
            MountPoint = $_.MountPoint
            VolumeType = $_.VolumeType.ToString()
            VolumeStatus = $_.VolumeStatus.ToString()
            ProtectionStatus = $_.ProtectionStatus.ToString()
            EncryptionPercentage = [double]$_.EncryptionPercentage
            EncryptionMethod = $_.EncryptionMethod.ToString()
            LockStatus = $_.LockStatus.ToString()
            KeyProtectorTypes = @(foreach ($protector in $_.KeyProtector) { $protector.KeyProtectorType.ToString() })
        }
    })
}
