// Times and durations as every page writes them.

/** A playhead or a duration as a clock: "3:07", "1:02:03"; 0:00 for nothing. */
export function clock(ms) {
  if (ms == null || !Number.isFinite(ms)) return "0:00";
  const total = Math.max(0, Math.floor(ms / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${seconds}` : `${minutes}:${seconds}`;
}

/** Seconds in words: "45 s", "3 min", "2 h 5 min". */
export function formatDuration(seconds) {
  const total = Math.max(0, Math.round(seconds));
  if (total < 120) return `${total} s`;
  const minutes = Math.round(total / 60);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
}

/** An ISO 8601 time in the reader's locale, short; "never" for none. */
export function formatTime(iso) {
  if (!iso) return "never";
  return new Date(iso).toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });
}
