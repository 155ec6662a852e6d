// The print desk: each card's page count once the card is in view (its document is made
// then, in the background, like its thumbnail): nothing is made for cards nobody sees.
function count(span) {
  fetch(span.dataset.src).then(r => r.json()).then(info => {
    if (info.pages) span.textContent = info.pages + (info.pages === 1 ? ' page' : ' pages');
    if (info.error) span.textContent = 'cannot build: ' + info.error.message;
  }).catch(() => {});
}

const spans = document.querySelectorAll('.page-count');
if ('IntersectionObserver' in window) {
  const watcher = new IntersectionObserver(entries => {
    for (const entry of entries) {
      if (entry.isIntersecting) { watcher.unobserve(entry.target); count(entry.target); }
    }
  });
  spans.forEach(span => watcher.observe(span));
} else {
  spans.forEach(count);
}
