# Key protector TYPES only: a recovery password is never read.
if ($null -eq (Get-Command -Name Get-BitLockerVolume -ErrorAction SilentlyContinue)) {
    return [pscustomobject]@{ Available = $false; SystemDrive = $env:SystemDrive; Volumes = @() }
}
[pscustomobject]@{
    Available = $true
    SystemDrive = $env:SystemDrive
    # The system drive only: another volume that cannot be read (a locked or removable data
    # drive) must not cost the system volume's answer.
    Volumes = @(Get-BitLockerVolume -MountPoint $env:SystemDrive | ForEach-Object {
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
