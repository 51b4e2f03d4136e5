"""From a video file to clip features, as the public RG / Fis-V releases made them.

Modules: ``clips`` (how many 32-frame clips, which frames are dropped), ``decode`` (PyAV decoding
resampled to a fixed frame rate, streamed), ``preprocess`` (resize, crop, squash, normalise),
``swin`` and ``i3d`` (backbones and their weight files), ``backbones`` (the registry),
``extract`` (one video or a folder, progress, resume, failures) and ``distributed`` (torchrun sharding).

Nothing here is imported by training: PyAV and torchvision are optional dependencies (the ``video``
extra), imported inside the functions that need them.
"""
