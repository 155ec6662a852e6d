// The print desk: each card's page count, once its document is made (thumbnails first).
for (const span of document.querySelectorAll('.page-count')) {
  fetch(span.dataset.src).then(r => r.json()).then(info => {
    if (info.pages) span.textContent = info.pages + (info.pages === 1 ? ' page' : ' pages');
    if (info.error) span.textContent = 'cannot build: ' + info.error.message;
  }).catch(() => {});
}
