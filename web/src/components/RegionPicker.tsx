import { useId, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent } from "react";
import type { ImageMetadata } from "@imgedge/api-client";
import type { BuilderValues } from "../lib/builder";
import {
  adjustCrop,
  cropFromDrag,
  cropOf,
  cropStep,
  focalPoint,
  nudgeFocus,
  sourceRegion,
  withCrop,
  withFocus,
  type Point,
} from "../lib/region";
import { pickerPath } from "../lib/variants";

export type PickerTool = "focal" | "crop";

/** A drag shorter than this (CSS pixels) is a click, not a region. */
const MIN_DRAG_PX = 3;

interface Drag {
  readonly from: Point;
  readonly to: Point;
  readonly startX: number;
  readonly startY: number;
}

const TOOLS: readonly { value: PickerTool; label: string }[] = [
  { value: "focal", label: "Click: focal point" },
  { value: "crop", label: "Drag: crop region" },
];

/**
 * The original, to set the focal point by clicking on it (or with the arrow keys) and the
 * crop region by dragging on it (arrow keys move it, Shift + arrows resize it). Both are
 * drawn over the image: the region outside the crop is shaded.
 */
export function RegionPicker({
  image,
  values,
  onChange,
  tool,
  onToolChange,
}: {
  image: ImageMetadata;
  values: BuilderValues;
  onChange: (values: BuilderValues) => void;
  tool: PickerTool;
  onToolChange: (tool: PickerTool) => void;
}) {
  const id = useId();
  const surface = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const [pressing, setPressing] = useState(false);
  const src = useMemo(() => pickerPath(image), [image]);
  const { width: W, height: H } = image;

  const crop = cropOf(values);
  const drawn = drag ? cropFromDrag(drag.from, drag.to, image) : null;
  const shownCrop = drawn ?? (crop ? sourceRegion(image, crop) : null);
  const focus = values.gravity === "focal" ? focalPoint(values, image) : null;

  const pointOf = (event: PointerEvent<HTMLDivElement>): Point => {
    const rect = event.currentTarget.getBoundingClientRect();
    return { x: (event.clientX - rect.left) / rect.width, y: (event.clientY - rect.top) / rect.height };
  };

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0) return;
    // Measured before focusing: focus must not scroll the image from under the pointer.
    const point = pointOf(event);
    event.preventDefault();
    surface.current?.focus({ preventScroll: true });
    event.currentTarget.setPointerCapture(event.pointerId);
    if (tool === "focal") {
      setPressing(true);
      onChange(withFocus(values, point, image));
    } else {
      setDrag({ from: point, to: point, startX: event.clientX, startY: event.clientY });
    }
  };

  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    if (tool === "focal" && pressing) onChange(withFocus(values, pointOf(event), image));
    if (tool === "crop" && drag) setDrag({ ...drag, to: pointOf(event) });
  };

  const onPointerUp = (event: PointerEvent<HTMLDivElement>) => {
    setPressing(false);
    if (!drag) return;
    setDrag(null);
    const moved = Math.hypot(event.clientX - drag.startX, event.clientY - drag.startY) >= MIN_DRAG_PX;
    const region = moved ? cropFromDrag(drag.from, pointOf(event), image) : null;
    if (region) onChange(withCrop(values, region, image));
  };

  const onPointerCancel = () => {
    setPressing(false);
    setDrag(null);
  };

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const arrows: Record<string, [number, number]> = {
      ArrowLeft: [-1, 0],
      ArrowRight: [1, 0],
      ArrowUp: [0, -1],
      ArrowDown: [0, 1],
    };
    if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      onChange(tool === "focal" ? { ...values, gravity: "center" } : withCrop(values, null, image));
      return;
    }
    const arrow = arrows[event.key];
    if (!arrow || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    const [dx, dy] = arrow;
    if (tool === "focal") {
      const step = event.shiftKey ? 0.1 : 0.01;
      onChange(nudgeFocus(values, dx * step, dy * step));
      return;
    }
    const step = cropStep(image);
    const change = event.shiftKey
      ? { dw: dx * step.width, dh: dy * step.height }
      : { dx: dx * step.width, dy: dy * step.height };
    onChange(withCrop(values, adjustCrop(crop, image, change), image));
  };

  const instructions =
    tool === "focal"
      ? "Click or drag on the image to set the focal point; arrow keys move it (Shift: further), Delete removes it."
      : "Drag on the image to draw the crop region; arrow keys move it, Shift + arrow keys resize it, Delete removes it.";
  const focusText =
    values.gravity === "focal" ? `focal point ${values.focalX || "?"}, ${values.focalY || "?"}` : "no focal point";
  const cropText = crop ? `crop ${crop.x}, ${crop.y}, ${crop.width} × ${crop.height} px` : "no crop";

  return (
    <div className="picker">
      <div className="segmented" role="radiogroup" aria-label="What the image sets">
        {TOOLS.map(({ value, label }) => (
          <label key={value} className={`segment${tool === value ? " selected" : ""}`}>
            <input
              type="radio"
              name={`${id}-tool`}
              value={value}
              checked={tool === value}
              className="visually-hidden"
              onChange={() => onToolChange(value)}
            />
            {label}
          </label>
        ))}
      </div>
      <div
        ref={surface}
        className={`picker-surface picker-${tool}`}
        role="application"
        tabIndex={0}
        aria-label={tool === "focal" ? "Focal point picker" : "Crop region picker"}
        aria-describedby={`${id}-help ${id}-state`}
        data-tool={tool}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={onPointerUp}
        onPointerCancel={onPointerCancel}
        onKeyDown={onKeyDown}
      >
        <img
          src={src}
          width={W}
          height={H}
          alt={`The original, ${W} × ${H}`}
          className="picker-image"
          draggable={false}
          decoding="async"
        />
        <svg className="picker-overlay" viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" aria-hidden="true">
          {shownCrop && (
            <>
              <path
                className="picker-shade"
                fillRule="evenodd"
                d={`M0 0H${W}V${H}H0Z M${shownCrop.x} ${shownCrop.y}h${shownCrop.width}v${shownCrop.height}h${-shownCrop.width}Z`}
              />
              <rect
                className="picker-crop"
                x={shownCrop.x}
                y={shownCrop.y}
                width={shownCrop.width}
                height={shownCrop.height}
                vectorEffect="non-scaling-stroke"
              />
            </>
          )}
          {focus && (
            <g className="picker-focus" data-focus={`${values.focalX},${values.focalY}`}>
              <line x1={focus.x * W} y1={0} x2={focus.x * W} y2={H} vectorEffect="non-scaling-stroke" />
              <line x1={0} y1={focus.y * H} x2={W} y2={focus.y * H} vectorEffect="non-scaling-stroke" />
              <circle
                cx={focus.x * W}
                cy={focus.y * H}
                r={Math.max(W, H) * 0.025}
                vectorEffect="non-scaling-stroke"
              />
            </g>
          )}
        </svg>
      </div>
      <p id={`${id}-help`} className="hint">
        {instructions}
      </p>
      <p id={`${id}-state`} className="hint" aria-live="polite">
        Now: {focusText}; {cropText}.
      </p>
    </div>
  );
}
