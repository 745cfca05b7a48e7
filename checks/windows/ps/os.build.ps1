# Caption tells Windows 11 apart: the registry's ProductName still says "Windows 10" there.
$cv = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows NT\CurrentVersion'
$os = Get-CimInstance -ClassName Win32_OperatingSystem
$display = $cv.ReleaseId
if ($cv.PSObject.Properties['DisplayVersion']) { $display = $cv.DisplayVersion }
[pscustomobject]@{
    Caption = $os.Caption
    ProductName = $cv.ProductName
    EditionID = $cv.EditionID
    InstallationType = $cv.InstallationType
    DisplayVersion = $display
    CurrentBuild = [int]$cv.CurrentBuild
    UBR = [int]$cv.UBR
    Version = '10.0.{0}.{1}' -f $cv.CurrentBuild, $cv.UBR
    ProductType = [int]$os.ProductType
    LastBootUpTime = ConvertTo-IsoDate $os.LastBootUpTime
}
