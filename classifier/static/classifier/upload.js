// The upload card: drop photos on it, paste one, or choose them (on a phone: take one); see a
// preview of each, remove any, and watch the upload's progress. Without this script the card is a
// plain form that posts the chosen files; with it the same form is posted by XMLHttpRequest (the
// one browser API that reports upload progress), asking for the results page's address as JSON.
(function () {
  "use strict";

  const form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  const card = document.getElementById("upload-card");
  const list = document.getElementById("previews");
  const errors = document.getElementById("upload-errors");
  const progress = document.getElementById("upload-progress");
  const status = document.getElementById("upload-status");
  const button = document.getElementById("classify");
  const inputs = form.querySelectorAll('input[type="file"]');
  const maxBytes = Number(form.dataset.maxBytes);
  const maxFiles = Number(form.dataset.maxFiles);
  const chosen = []; // {file, item}: the photos to send, in the order they were added
  let pasted = 0;
  let sending = false;

  form.classList.add("enhanced");
  form.noValidate = true; // the inputs are emptied once read: the script checks that photos were chosen
  document.getElementById("upload-hint").textContent +=
    " Drop photos on this card, or paste one with Ctrl+V (⌘V).";

  function sizeText(bytes) {
    if (bytes >= 1024 * 1024) {
      return (bytes / (1024 * 1024)).toFixed(1) + " MB";
    }
    return Math.max(1, Math.round(bytes / 1024)) + " KB";
  }

  function showErrors(messages) {
    errors.textContent = "";
    if (messages.length === 0) {
      return;
    }
    const ul = document.createElement("ul");
    for (const message of messages) {
      const li = document.createElement("li");
      li.textContent = message;
      ul.appendChild(li);
    }
    errors.appendChild(ul);
  }

  // A small canvas drawn from the photo (no object URL, so the CSP's img-src needs nothing more);
  // createImageBitmap applies the EXIF orientation, as the site's own thumbnail does.
  function drawPreview(file, holder) {
    const side = 96;
    if (!window.createImageBitmap) {
      return;
    }
    createImageBitmap(file)
      .then(function (bitmap) {
        const scale = Math.min(side / bitmap.width, side / bitmap.height, 1);
        const canvas = document.createElement("canvas");
        canvas.width = Math.max(1, Math.round(bitmap.width * scale));
        canvas.height = Math.max(1, Math.round(bitmap.height * scale));
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        canvas.setAttribute("role", "img");
        canvas.setAttribute("aria-label", "Preview of " + file.name);
        bitmap.close();
        holder.replaceWith(canvas);
      })
      .catch(function () {
        holder.textContent = "No preview";
      });
  }

  function add(files) {
    const refused = [];
    for (const file of files) {
      if (chosen.length >= maxFiles) {
        refused.push("At most " + maxFiles + " photos at a time: " + file.name + " was left out.");
        continue;
      }
      const item = document.createElement("li");
      const holder = document.createElement("span");
      holder.className = "no-preview";
      holder.textContent = "…";
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = file.name;
      const size = document.createElement("span");
      size.className = "size";
      size.textContent = sizeText(file.size);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "✕";
      remove.setAttribute("aria-label", "Remove " + file.name);
      remove.title = "Remove";
      item.append(holder, name, size, remove);
      if (file.size > maxBytes) {
        const note = document.createElement("span");
        note.className = "too-big";
        note.textContent = "over the " + sizeText(maxBytes) + " limit";
        item.appendChild(note);
      }
      const entry = { file: file, item: item };
      remove.addEventListener("click", function () {
        const next = item.nextElementSibling || item.previousElementSibling;
        chosen.splice(chosen.indexOf(entry), 1);
        item.remove();
        // Keep the keyboard where it was: on the next photo's button, else the chooser.
        (next ? next.querySelector("button.remove") : inputs[0]).focus();
        announce();
      });
      chosen.push(entry);
      list.appendChild(item);
      drawPreview(file, holder);
    }
    showErrors(refused);
    announce();
  }

  function announce() {
    const count = chosen.length;
    status.textContent = count === 0 ? "" : count + (count === 1 ? " photo" : " photos") + " to classify.";
  }

  for (const input of inputs) {
    input.addEventListener("change", function () {
      add(Array.from(input.files));
      input.value = ""; // the script sends the list; choosing the same photo again adds it again
    });
  }

  // Dropping on the card adds the photos; dropped anywhere else they must not replace the page.
  for (const type of ["dragover", "drop"]) {
    document.addEventListener(type, function (event) {
      event.preventDefault();
    });
  }
  card.addEventListener("dragenter", function (event) {
    event.preventDefault();
    card.classList.add("dragging");
  });
  card.addEventListener("dragover", function (event) {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
    card.classList.add("dragging");
  });
  card.addEventListener("dragleave", function (event) {
    if (!card.contains(event.relatedTarget)) {
      card.classList.remove("dragging");
    }
  });
  card.addEventListener("drop", function (event) {
    event.preventDefault();
    card.classList.remove("dragging");
    add(Array.from(event.dataTransfer.files));
  });

  // A pasted picture has a generic name ("image.png"): number it, so that several can be told apart.
  document.addEventListener("paste", function (event) {
    const files = Array.from((event.clipboardData && event.clipboardData.files) || []);
    if (files.length === 0) {
      return;
    }
    event.preventDefault();
    add(
      files.map(function (file) {
        pasted += 1;
        const extension = (file.type.split("/")[1] || "png").replace("jpeg", "jpg");
        return new File([file], "pasted photo " + pasted + "." + extension, { type: file.type });
      }),
    );
  });

  function finish(messages) {
    sending = false;
    button.disabled = false;
    progress.hidden = true;
    status.textContent = "";
    showErrors(messages);
    announce();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (sending) {
      return;
    }
    if (chosen.length === 0) {
      showErrors(["Choose at least one image to classify."]);
      inputs[0].focus();
      return;
    }
    const data = new FormData();
    data.append("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    for (const entry of chosen) {
      data.append("images", entry.file, entry.file.name);
    }
    const request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("Accept", "application/json");
    request.responseType = "json";
    request.upload.addEventListener("progress", function (event) {
      if (event.lengthComputable) {
        progress.value = Math.round((100 * event.loaded) / event.total);
        status.textContent =
          "Uploading " + sizeText(event.loaded) + " of " + sizeText(event.total) + " (" + progress.value + "%)…";
      }
    });
    request.upload.addEventListener("load", function () {
      progress.value = 100;
      status.textContent = "Uploaded; classifying…";
    });
    request.addEventListener("load", function () {
      const body = request.response || {};
      if (request.status === 200 && body.url) {
        status.textContent = "Done; opening the results…";
        window.location.assign(body.url);
        return;
      }
      const message = body.error ? body.error.message : "The upload failed (HTTP " + request.status + ").";
      finish(body.messages || [message]);
    });
    request.addEventListener("error", function () {
      finish(["The upload did not reach the site: check the connection and try again."]);
    });
    sending = true;
    button.disabled = true;
    showErrors([]);
    progress.value = 0;
    progress.hidden = false;
    status.textContent = "Uploading…";
    request.send(data);
  });
})();
