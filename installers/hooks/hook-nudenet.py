"""NudeNet (the NSFW check) loads its ONNX detector from beside its own module.

PyInstaller runs this hook only when the analysed code imports `nudenet` and the package
is installed; otherwise it is never called, so a bundle without the check builds as before.
"""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("nudenet", includes=["**/*.onnx", "**/*.json", "**/*.txt"])
hiddenimports = ["onnxruntime"]
