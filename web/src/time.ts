// Timestamps as people read them. The API's have microseconds, which
// Date.parse is not required to accept: they are cut to milliseconds first.

const clock = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const day = new Intl.DateTimeFormat(undefined, { month: "short", day: "numeric" });

export function formatTime(timestamp: string, now = new Date()): string {
  const date = new Date(`${timestamp.slice(0, 23)}Z`);
  if (Number.isNaN(date.getTime())) return timestamp;
  return date.toDateString() === now.toDateString() ? clock.format(date) : day.format(date);
}
