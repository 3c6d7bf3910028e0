// What went wrong while connecting Spotify, in a streamer's words, and what to do: for
// the codes TuneDeck sends back from Spotify's answer (`?connect_error=<code>` on the
// page that started connecting), and for the error pages Spotify shows itself, which
// TuneDeck never sees (the streamer picks the one they saw). Shared by the setup page
// and the dashboard.

const DASHBOARD = "https://developer.spotify.com/dashboard";

/** code -> { title, fix, step }: `step` is the setup step that fixes it (2: the app). */
export const CONNECT_PROBLEMS = {
  spotify_app_rejected: {
    title: "Spotify refused your app's client secret.",
    fix: "Open your app's Settings on Spotify's developer dashboard, press “View client secret”, and paste the client ID and secret again (step 2). If you reset the secret on Spotify, paste the new one.",
    step: 2,
  },
  spotify_user_not_registered: {
    title: "Spotify says this Spotify account may not use your app yet.",
    fix: "Apps in development mode only work for the Spotify accounts listed under User Management. On Spotify's developer dashboard, open your app → Settings → User Management, add the name and e-mail of the Spotify account you stream with, save, then connect again.",
    step: 3,
  },
  premium_required: {
    title: "This Spotify account does not have Premium.",
    fix: "The overlay still works. Controlling the music from TuneDeck (play, skip, song requests) needs Premium, and Spotify requires the owner of an app in development mode to have Premium.",
    step: 3,
  },
  oauth_access_denied: {
    title: "You pressed “Cancel” on Spotify's page, so nothing was connected.",
    fix: "Press “Connect Spotify” again and choose “Agree”.",
    step: 3,
  },
  oauth_refused: {
    title: "Spotify did not let TuneDeck connect.",
    fix: "Press “Connect Spotify” again. If it keeps failing, check the app's settings on Spotify's developer dashboard (step 2).",
    step: 3,
  },
  oauth_code_refused: {
    title: "The connection took too long and Spotify's answer expired.",
    fix: "Press “Connect Spotify” again.",
    step: 3,
  },
  spotify_not_connected: {
    title: "Your Spotify app's client ID and secret are missing.",
    fix: "Paste them in step 2, then connect.",
    step: 2,
  },
  spotify_unavailable: {
    title: "Spotify did not answer.",
    fix: "Wait a minute and press “Connect Spotify” again. If it keeps failing, Spotify may be having problems.",
    step: 3,
  },
};

/** The explanation of a code TuneDeck sent back, or a general one. */
export function connectProblem(code) {
  return (
    CONNECT_PROBLEMS[code] || {
      title: "Spotify was not connected.",
      fix: "Press “Connect Spotify” again.",
      step: 3,
    }
  );
}

/** The error pages Spotify shows itself, instead of sending the browser back. */
export const SPOTIFY_ERROR_PAGES = [
  {
    shown: "INVALID_CLIENT: Invalid redirect URI",
    fix: "The redirect URI saved in your app is not exactly TuneDeck's. On Spotify's developer dashboard, open your app → Settings → Edit, paste the redirect URI from step 2 under “Redirect URIs”, press Add, then Save at the bottom, and connect again.",
  },
  {
    shown: "INVALID_CLIENT: Invalid client",
    fix: "The client ID is not the one of your app (a letter missing?). Copy it again from your app's Settings and paste it in step 2.",
  },
  {
    shown: "INVALID_CLIENT: Insecure redirect URI",
    fix: "Spotify does not take “localhost” or plain http addresses other than 127.0.0.1. Use the redirect URI from step 2 exactly as shown.",
  },
];

export const SPOTIFY_DASHBOARD = DASHBOARD;

/**
 * Send the browser to Spotify's consent page; it comes back to `returnTo` (with
 * ?connected=spotify, or ?connect_error=<code>). Rejects with the API's error (no app
 * credentials yet: `spotify_not_connected`).
 */
export async function startConnecting(api, returnTo) {
  const started = await api.get("/v1/connections/spotify/authorize", { format: "json", return_to: returnTo });
  location.assign(started.authorize_url);
}
