// Logging in through the centre's directory (OpenID Connect): the button beside the password
// form when the node has a directory, and what went wrong when the directory's way back ended
// on the login screen (the node sends the browser to /?login_error=<code>).
import { useEffect, useState } from 'preact/hooks';
import { get } from './api';
import { t } from './i18n';

interface LoginMethods { password: boolean; directory: boolean; directory_name: string }

/** The code the node sent the browser back with, taken off the address so a reload does not
 * show it again. */
function takeLoginError(): string | null {
  const params = new URLSearchParams(location.search);
  const code = params.get('login_error');
  if (code === null) return null;
  params.delete('login_error');
  const rest = params.toString();
  history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
  return code;
}

/** The words for a refusal code; an unknown code reads as the directory's refusal. */
function refusalText(code: string): string {
  const key = `login_error.${code}`;
  const text = /^[a-z_]{1,40}$/.test(code) ? t(key) : key;
  return text === key ? t('login_error.directory_refused') : text;
}

export function DirectoryLogin() {
  const [methods, setMethods] = useState<LoginMethods | null>(null);
  const [error] = useState(takeLoginError);
  useEffect(() => {
    get<LoginMethods>('auth/methods').then(setMethods).catch(() => setMethods(null));
  }, []);
  if (!methods?.directory && !error) return null;
  return (
    <div class="login-directory">
      {error && <p class="error" role="alert" id="login-directory-error">{refusalText(error)}</p>}
      {methods?.directory && <>
        <span class="login-or muted small">{t('login_or')}</span>
        {/* A plain link: the browser leaves for the directory and comes back to the console. */}
        <a class="button" id="login-directory" href="/api/v1/auth/oidc/start"
          aria-describedby={error ? 'login-directory-error' : undefined}>
          {methods.directory_name ? t('login_with', { name: methods.directory_name }) : t('login_directory')}
        </a>
      </>}
    </div>
  );
}
