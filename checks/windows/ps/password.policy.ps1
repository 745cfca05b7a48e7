# secedit's export is locale-independent (net accounts is not). It writes a temporary file that
# is deleted at once (allowlisted in checks/windows/script.py). Local SAM policy only.
$export = Join-Path -Path $env:TEMP -ChildPath ('baluarte-secpol-{0}.inf' -f [guid]::NewGuid())
try {
    $null = & secedit.exe /export /cfg $export /areas SECURITYPOLICY /quiet
    if ($LASTEXITCODE -ne 0) { throw ('secedit /export failed with exit code {0}' -f $LASTEXITCODE) }
    $lines = @(Get-Content -LiteralPath $export)
} finally {
    if (Test-Path -LiteralPath $export) { Remove-Item -LiteralPath $export -Force }
}
$values = @{}
$section = ''
foreach ($line in $lines) {
    if ($line -match '^\s*\[(.+)\]\s*$') { $section = $Matches[1]; continue }
    if ($section -eq 'System Access' -and $line -match '^\s*(\w+)\s*=\s*(-?\d+)\s*$') {
        $values[$Matches[1]] = [int]$Matches[2]
    }
}
$computer = Get-CimInstance -ClassName Win32_ComputerSystem
$policy = [ordered]@{ Scope = 'LocalSAM'; PartOfDomain = [bool]$computer.PartOfDomain; DomainRole = [int]$computer.DomainRole }
foreach ($key in @('MinimumPasswordLength', 'PasswordComplexity', 'PasswordHistorySize', 'MaximumPasswordAge',
        'MinimumPasswordAge', 'LockoutBadCount', 'LockoutDuration', 'ResetLockoutCount', 'ClearTextPassword',
        'EnableGuestAccount', 'EnableAdminAccount')) {
    $policy[$key] = $values[$key]
}
[pscustomobject]$policy
