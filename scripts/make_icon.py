#!/usr/bin/env python3
"""Draw the app icon, resources/icon.png (1024 px), with Qt offscreen: no image editor needed.

The macOS build turns it into an .icns with iconutil (scripts/build_macos_app.sh); the window
uses the PNG as its window icon. Re-run this only to change the design.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QLinearGradient, QPainter, QPainterPath, QPen

SIZE = 1024
BODY = QRectF(100, 100, 824, 824)  # Apple's icon grid: the rounded square inside a transparent margin
BARS = (0.38, 0.62, 0.50, 0.80, 0.56, 0.70, 0.44)  # chunk bars, as the window's live plot draws them
TARGET = 0.58  # the calibration line the bars are measured against


def draw(path: Path) -> None:
    image = QImage(SIZE, SIZE, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)

    body = QPainterPath()
    body.addRoundedRect(BODY, 185, 185)
    gradient = QLinearGradient(BODY.topLeft(), BODY.bottomRight())
    gradient.setColorAt(0.0, QColor("#1d3b6f"))
    gradient.setColorAt(1.0, QColor("#0b1a33"))
    p.fillPath(body, QBrush(gradient))

    plot = BODY.adjusted(150, 170, -150, -170)
    step = plot.width() / len(BARS)
    width = step * 0.62
    bar_gradient = QLinearGradient(QPointF(0, plot.top()), QPointF(0, plot.bottom()))
    bar_gradient.setColorAt(0.0, QColor("#7fe3ff"))
    bar_gradient.setColorAt(1.0, QColor("#3a8dde"))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(bar_gradient))
    for i, height in enumerate(BARS):
        x = plot.left() + i * step + (step - width) / 2
        h = plot.height() * height
        p.drawRoundedRect(QRectF(x, plot.bottom() - h, width, h), width / 2.6, width / 2.6)

    y = plot.bottom() - plot.height() * TARGET
    p.setPen(QPen(QColor("#ffb347"), 26, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    p.drawLine(QPointF(plot.left() - 40, y), QPointF(plot.right() + 40, y))
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#ffb347"))
    p.drawEllipse(QPointF(plot.right() + 40, y), 40, 40)
    p.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(path)):
        raise SystemExit(f"could not write {path}")


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - QImage fonts/paint need it
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "resources/icon.png"
    draw(target)
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
