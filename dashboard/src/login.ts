/** The login form. */
import { ApiError, login, type Me } from './api.ts';
import { el } from './element.ts';

/** `notice`: why the nurse must log in again (e.g. the session ended while the page was open). */
export function loginView(onLoggedIn: (me: Me) => void, onGesture: () => void, notice?: string): HTMLElement {
  const user = el('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true });
  const pass = el('input', { id: 'login-pass', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = el('p', { class: 'login-error', role: 'alert' });
  const button = el('button', { type: 'submit' }, 'Log in');
  const form = el('form', { class: 'login', 'aria-labelledby': 'login-title' },
    el('h2', { id: 'login-title' }, 'Log in'),
    notice ? el('p', { class: 'login-notice', role: 'alert' }, notice) : null,
    el('label', { for: 'login-user' }, 'User name'), user,
    el('label', { for: 'login-pass' }, 'Password'), pass,
    button, error,
    el('p', { class: 'hint' }, 'pumpwatch is a secondary alarm: the pump’s own alarm stays the primary one.'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    onGesture();
    button.disabled = true;
    error.textContent = '';
    login(user.value, pass.value).then(onLoggedIn, (err: unknown) => {
      error.textContent = err instanceof ApiError && err.status === 401 ? 'Wrong user name or password.'
        : err instanceof ApiError && err.status === 429 ? 'Too many attempts; wait a few minutes.'
          : `Could not log in: ${err instanceof Error ? err.message : 'error'}`;
      pass.value = '';
      pass.focus();
    }).finally(() => { button.disabled = false; });
  });
  queueMicrotask(() => user.focus());
  return form;
}
