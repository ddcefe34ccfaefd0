import { useEffect, useRef } from "react";

/** Calls `onEnter` whenever the returned ref's element comes near the viewport. */
export function useOnVisible<T extends Element>(onEnter: () => void, rootMargin = "600px") {
  const ref = useRef<T>(null);
  const callback = useRef(onEnter);
  useEffect(() => {
    callback.current = onEnter;
  }, [onEnter]);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((entry) => entry.isIntersecting)) callback.current();
      },
      { rootMargin },
    );
    observer.observe(element);
    return () => observer.disconnect();
  }, [rootMargin]);
  return ref;
}
