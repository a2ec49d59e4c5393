// Own assets' tracks, without the fixes that cannot be true: a position at 0,0 (a receiver
// with no fix), outside the region, or so far from the last good one that the asset would
// have had to move faster than its kind can. Such fixes are left out of the track (a line
// across the region helps nobody) and flagged in the asset's tooltip instead.
import type { Asset } from './api';

/** Highest believable speed by kind of asset, km/h; anything else is a ground unit. */
export const MAX_SPEED_KMH: Record<string, number> = { aircraft: 1000 };
export const GROUND_MAX_SPEED_KMH = 300;

/** West, south, east, north. */
export type Region = [number, number, number, number];

/** The five countries and their borders, with a margin, when the sections are not known yet. */
export const DEFAULT_REGION: Region = [44, 33, 90, 58];

export type FlagReason = 'no_fix' | 'outside' | 'speed';

export interface Flag { lon: number; lat: number; at: string; reason: FlagReason; speed?: number }

export interface CheckedTrack {
  /** The believable positions, oldest first. */
  track: [number, number][];
  /** Where the asset is drawn: its latest believable position (null if none is). */
  here: [number, number] | null;
  flags: Flag[];
}

/** The region the node watches: its border sections' extent, two degrees wider each side. */
export function regionOf(sections: GeoJSON.FeatureCollection | null): Region {
  let w = Infinity; let s = Infinity; let e = -Infinity; let n = -Infinity;
  const visit = (c: unknown): void => {
    if (Array.isArray(c) && typeof c[0] === 'number') {
      const [x, y] = c as number[];
      w = Math.min(w, x); e = Math.max(e, x); s = Math.min(s, y); n = Math.max(n, y);
    } else if (Array.isArray(c)) for (const x of c) visit(x);
  };
  for (const f of sections?.features ?? []) {
    if (f.geometry && 'coordinates' in f.geometry) visit(f.geometry.coordinates);
  }
  return Number.isFinite(w) ? [w - 2, s - 2, e + 2, n + 2] : DEFAULT_REGION;
}

/** Great-circle distance in km. */
export function distanceKm(a: [number, number], b: [number, number]): number {
  const rad = Math.PI / 180;
  const dLat = (b[1] - a[1]) * rad;
  const dLon = (b[0] - a[0]) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a[1] * rad) * Math.cos(b[1] * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}

/**
 * Walk the track oldest first, comparing each fix with the last believable one. The first
 * fix inside the region is believed; a fix is left out when it is at 0,0, outside the
 * region, or implies a speed above the kind's limit (fixes at the same second count as one
 * second apart, so a teleport is never a division by zero).
 */
export function checkTrack(asset: Pick<Asset, 'kind' | 'track'>, region: Region): CheckedTrack {
  const limit = MAX_SPEED_KMH[asset.kind] ?? GROUND_MAX_SPEED_KMH;
  const [w, s, e, n] = region;
  const track: [number, number][] = [];
  const flags: Flag[] = [];
  let last: { at: number; where: [number, number] } | null = null;
  for (const [lon, lat, at] of asset.track) {
    const where: [number, number] = [lon, lat];
    if (Math.abs(lon) < 1e-6 && Math.abs(lat) < 1e-6) {
      flags.push({ lon, lat, at, reason: 'no_fix' });
      continue;
    }
    if (lon < w || lon > e || lat < s || lat > n) {
      flags.push({ lon, lat, at, reason: 'outside' });
      continue;
    }
    const time = Date.parse(at);
    if (last) {
      const hours = Math.max(1, Math.abs(time - last.at) / 1000) / 3600;
      const speed = distanceKm(last.where, where) / hours;
      if (speed > limit) {
        flags.push({ lon, lat, at, reason: 'speed', speed: Math.round(speed) });
        continue;
      }
    }
    track.push(where);
    last = { at: time, where };
  }
  return { track, here: last?.where ?? null, flags };
}
