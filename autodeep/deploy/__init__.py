"""Deployment outside autodeep: ONNX export of the whole pipeline (``autodeep.deploy.onnx_export``).

MLflow logging lives in ``autodeep.mlflow``.
"""

from autodeep.deploy.onnx_export import OnnxExportError, export_onnx, onnx_feeds

__all__ = ["OnnxExportError", "export_onnx", "onnx_feeds"]
