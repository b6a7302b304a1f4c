/** The tables the cameras feature owns, as stored (core/db/migrations/0002_cameras.ts, core/db/postgres/0020_baseline.ts). */
export interface CameraTables {
  cameras: {
    id: string;
    name: string;
    /** Credential-free main stream URL. */
    url: string;
    sub_url: string | null;
    /** The camera's credentials encrypted under its id (core/cameras/secrets.ts); never in clear. */
    credentials: Buffer | null;
    /** JSON CameraMount. */
    mount: string;
    /** JSON GeoPoint, or null. */
    location: string | null;
    analytics_enabled: number;
    recording_enabled: number;
    demo: number;
    created_at: string;
    updated_at: string;
  };
}
