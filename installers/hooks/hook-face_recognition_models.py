"""face-recognition-models (the likeness score) ships dlib's .dat weights as package data.

The checks use the 5-point landmarks and the ResNet descriptor, never the 68-point model
(design.md), so its ~100 MB file stays out. Run by PyInstaller only when the analysed code
imports the package and it is installed.
"""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files(
    "face_recognition_models",
    includes=["**/*.dat"],
    excludes=["**/shape_predictor_68_face_landmarks.dat"],
)
# the package finds its files through pkg_resources (setuptools) in some releases
hiddenimports = ["pkg_resources"]
