"""Qt-free core: photo in, styled image out.

Heavy libraries (torch, diffusers, transformers, cv2) are imported lazily inside the
functions that need them so that importing the engine stays cheap.
"""
