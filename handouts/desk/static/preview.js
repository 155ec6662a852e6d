// The live preview: asks for the document's pages and redraws them when they change.
const pagesBox = document.getElementById('pages');
const errorBox = document.getElementById('error');
const statusLine = document.getElementById('status');
let token = null;
let shown = '';

function say(text) {   // only changes are announced by the status region
  if (text !== shown) { statusLine.textContent = text; shown = text; }
}

async function poll() {
  try {
    const response = await fetch(pagesBox.dataset.api);
    const state = await response.json();
    if (state.error) {
      errorBox.hidden = false;
      errorBox.textContent = state.error.text;
      say('Error: fix the file and save');
    } else {
      errorBox.hidden = true;
      if (state.token !== token) {
        token = state.token;
        pagesBox.replaceChildren(...state.pages.map(p => {
          const img = document.createElement('img');
          img.src = p.src;
          img.alt = 'Page ' + p.number + ': ' + p.text;
          return img;
        }));
        say(state.pages.length + (state.pages.length === 1 ? ' page' : ' pages') +
            ', updated ' + new Date().toLocaleTimeString());
      }
    }
  } catch (e) {
    say('The print desk is not reachable');
  }
  setTimeout(poll, 800);
}
poll();
